using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Tuning.Benchmarks;

/// <summary>One epoch of a learning curve: seconds of training up to the end of it, and the validation accuracy (%) after it.</summary>
public readonly record struct LcBenchEpoch(int Epoch, double Time, double ValAccuracy);

/// <summary>One hyperparameter of LCBench's search space, as config_space.json gives it.</summary>
public sealed record LcBenchHyperparameter(string Name, double Lower, double Upper, bool Log, bool Integer);

/// <summary>
/// The LCBench surrogate (YAHPO Gym's lcbench model.onnx, Apache-2.0, Zimmer et al. 2021; Pfisterer et al. 2022), read
/// where it lies, never copied into the repository: by default ../shared/benchmarks/lcbench above the repository root.
/// A configuration's whole curve is one batched pass of the model (one row per epoch). Thread-safe: ONNX Runtime's
/// Run may be called from several threads at once.
/// </summary>
public sealed class LcBenchSurrogate : IDisposable
{
    public const int Epochs = 52;

    /// <summary>The model's continuous inputs after the epoch, in the order of x_cont.</summary>
    public static readonly string[] Hyperparameters = ["batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units", "max_dropout"];

    private const int Outputs = 6;
    private const int TimeOutput = 0;
    private const int ValAccuracyOutput = 1;

    private readonly InferenceSession _session;
    private readonly Dictionary<string, int> _codes;

    public string Folder { get; }

    /// <summary>The tasks (OpenML task ids) config_space.json lists.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>The search space of config_space.json, less the task and the epoch (the fidelity).</summary>
    public IReadOnlyList<LcBenchHyperparameter> Space { get; }

    public LcBenchSurrogate(string? folder = null)
    {
        Folder = folder ?? DefaultFolder ?? throw new DirectoryNotFoundException(
            "shared/benchmarks/lcbench not found above the current folder or this program; point to it with --lcbench DIR");
        // One thread per run: the searches batch many rows, and the machine is shared with other builds.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(Path.Combine(Folder, "model.onnx"), options);
        using var encoding = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "encoding.json")));
        _codes = encoding.RootElement.GetProperty("OpenML_task_id").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        using var space = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "config_space.json")));
        var hyperparameters = space.RootElement.GetProperty("hyperparameters").EnumerateArray().ToArray();
        Tasks = hyperparameters.Single(h => h.GetProperty("name").GetString() == "OpenML_task_id")
            .GetProperty("choices").EnumerateArray().Select(c => c.GetString()!).ToArray();
        Space = hyperparameters.Where(h => Hyperparameters.Contains(h.GetProperty("name").GetString()))
            .Select(h => new LcBenchHyperparameter(h.GetProperty("name").GetString()!, h.GetProperty("lower").GetDouble(),
                h.GetProperty("upper").GetDouble(), h.GetProperty("log").GetBoolean(), h.GetProperty("type").GetString() == "uniform_int"))
            .ToArray();
    }

    public static string? DefaultFolder => TpeParity.FindAbove(Path.Combine("shared", "benchmarks", "lcbench"));

    /// <summary>The model's rows for one task: each input row is an epoch followed by <see cref="Hyperparameters"/>' values.</summary>
    public float[] Run(string task, float[] rows)
    {
        if (!_codes.TryGetValue(task, out var code)) throw new ArgumentException($"task {task} is not one of LCBench's tasks", nameof(task));
        var count = rows.Length / (Hyperparameters.Length + 1);
        var inputs = new[]
        {
            NamedOnnxValue.CreateFromTensor("x_cat", new DenseTensor<int>(Enumerable.Repeat(code, count).ToArray(), [count, 1])),
            NamedOnnxValue.CreateFromTensor("x_cont", new DenseTensor<float>(rows, [count, Hyperparameters.Length + 1])),
        };
        using var results = _session.Run(inputs);
        return results[0].AsEnumerable<float>().ToArray();
    }

    /// <summary>The curve of one configuration (values by <see cref="Hyperparameters"/>' names) over epochs 1..<see cref="Epochs"/>.</summary>
    public LcBenchEpoch[] Curve(string task, IReadOnlyDictionary<string, double> configuration)
    {
        var rows = new float[Epochs * (Hyperparameters.Length + 1)];
        for (var epoch = 1; epoch <= Epochs; epoch++) Row(configuration, epoch).CopyTo(rows, (epoch - 1) * (Hyperparameters.Length + 1));
        var outputs = Run(task, rows);
        return Enumerable.Range(0, Epochs)
            .Select(e => new LcBenchEpoch(e + 1, outputs[e * Outputs + TimeOutput], outputs[e * Outputs + ValAccuracyOutput])).ToArray();
    }

    /// <summary>The validation accuracy at the last epoch of each configuration (rows of <see cref="Hyperparameters"/>' values), in one pass.</summary>
    public double[] FinalAccuracy(string task, IReadOnlyList<double[]> configurations)
    {
        var rows = new float[configurations.Count * (Hyperparameters.Length + 1)];
        for (var i = 0; i < configurations.Count; i++)
        {
            var offset = i * (Hyperparameters.Length + 1);
            rows[offset] = Epochs;
            for (var j = 0; j < Hyperparameters.Length; j++) rows[offset + 1 + j] = (float)configurations[i][j];
        }
        var outputs = Run(task, rows);
        return Enumerable.Range(0, configurations.Count).Select(i => (double)outputs[i * Outputs + ValAccuracyOutput]).ToArray();
    }

    private static float[] Row(IReadOnlyDictionary<string, double> configuration, int epoch) =>
        [epoch, .. Hyperparameters.Select(h => (float)configuration[h])];

    /// <summary>The study file's parameters for <see cref="Space"/> (ints stay ints, log scales stay log).</summary>
    public string ParametersYaml() => string.Join("\n", Space.Select(h =>
        $"  - {{name: {h.Name}, type: {(h.Integer ? "int" : "double")}, min: {h.Lower.ToString("R", CultureInfo.InvariantCulture)}, " +
        $"max: {h.Upper.ToString("R", CultureInfo.InvariantCulture)}{(h.Log ? ", scale: log" : "")}}}"));

    public void Dispose() => _session.Dispose();
}
