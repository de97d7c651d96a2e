using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tuning.Benchmarks;

/// <summary>
/// The best validation accuracy known at the last epoch of each LCBench task: what <c>benchmarks lcbench</c> measures
/// its distance to. Found once by a long search on the surrogate and saved (experiments/results/lcbench-best-known.json):
/// uniform random configurations over the whole space, then local refinement around the best few with a shrinking
/// Gaussian step in the unit cube (log scales searched in log space), every configuration evaluated at the last epoch in
/// batches through the model.
/// </summary>
public static class LcBenchBestKnown
{
    public static readonly string RelativePath = Path.Combine("experiments", "results", "lcbench-best-known.json");

    private const int Batch = 8192;
    private const int Elites = 20;
    private const int Rounds = 30;
    private const int PerElite = 200;
    private const double FirstStep = 0.1;
    private const double StepShrink = 0.8;

    /// <summary>Task id to best known accuracy (%); empty where the file is not found.</summary>
    public static IReadOnlyDictionary<string, double> Load()
    {
        if (TpeParity.FindAbove(RelativePath) is not { } path) return new Dictionary<string, double>();
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("tasks").EnumerateObject().ToDictionary(t => t.Name, t => t.Value.GetProperty("valAccuracy").GetDouble());
    }

    public static int Compute(string? folder, IReadOnlyList<string> tasks, int samples, int seed, string output)
    {
        using var surrogate = new LcBenchSurrogate(folder);
        var chosen = tasks.Count > 0 ? tasks : surrogate.Tasks;
        var clock = Stopwatch.StartNew();
        var found = new Dictionary<string, object>();
        foreach (var task in chosen)
        {
            var (accuracy, configuration) = Search(surrogate, task, samples, new Random(seed));
            found[task] = new
            {
                valAccuracy = Math.Round(accuracy, 4),
                configuration = LcBenchSurrogate.Hyperparameters.Zip(configuration).ToDictionary(p => p.First, p => p.Second),
            };
            Console.Error.WriteLine($"{task}: {accuracy:F3}% ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        var result = new
        {
            description = "Best validation accuracy (%) at epoch 52 found on the LCBench surrogate (YAHPO Gym's lcbench model.onnx, Apache-2.0) " +
                "by `benchmarks lcbench-best-known`: uniform random configurations, then local refinement around the best ones, all evaluated at epoch 52",
            method = new
            {
                randomConfigurations = samples, seed, elites = Elites, refinementRounds = Rounds, perturbationsPerElitePerRound = PerElite,
                firstStep = FirstStep, stepShrinkPerRound = StepShrink, space = "unit cube, log scale where config_space.json says log, ints rounded",
                evaluationsPerTask = samples + Rounds * Elites * PerElite,
            },
            tasks = found,
        };
        File.WriteAllText(output, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        Console.Error.WriteLine($"wrote {output} in {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    private static (double Accuracy, double[] Configuration) Search(LcBenchSurrogate surrogate, string task, int samples, Random random)
    {
        var dimensions = surrogate.Space.Count;
        var scored = new List<(double Accuracy, double[] Unit)>();
        void Evaluate(IReadOnlyList<double[]> units)
        {
            for (var from = 0; from < units.Count; from += Batch)
            {
                var chunk = units.Skip(from).Take(Batch).ToArray();
                var accuracies = surrogate.FinalAccuracy(task, chunk.Select(u => Configuration(surrogate, u)).ToArray());
                scored.AddRange(accuracies.Zip(chunk));
            }
            // Only the best few are refined: the rest are dropped as they come.
            scored = scored.OrderByDescending(s => s.Accuracy).Take(Elites).ToList();
        }

        Evaluate(Enumerable.Range(0, samples).Select(_ => Enumerable.Range(0, dimensions).Select(_ => random.NextDouble()).ToArray()).ToArray());
        var step = FirstStep;
        for (var round = 0; round < Rounds; round++, step *= StepShrink)
            Evaluate(scored.SelectMany(elite => Enumerable.Range(0, PerElite).Select(_ =>
                elite.Unit.Select(x => Math.Clamp(x + step * Gaussian(random), 0, 1)).ToArray())).ToArray());
        return (scored[0].Accuracy, Configuration(surrogate, scored[0].Unit));
    }

    /// <summary>A point of the unit cube as raw hyperparameter values, in <see cref="LcBenchSurrogate.Hyperparameters"/>' order.</summary>
    private static double[] Configuration(LcBenchSurrogate surrogate, double[] unit)
    {
        var byName = surrogate.Space.Zip(unit).ToDictionary(p => p.First.Name, p =>
        {
            var (h, u) = p;
            var value = h.Log ? Math.Exp(Math.Log(h.Lower) + u * (Math.Log(h.Upper) - Math.Log(h.Lower))) : h.Lower + u * (h.Upper - h.Lower);
            // exp(log(upper)) may land a rounding above upper.
            return Math.Clamp(h.Integer ? Math.Round(value) : value, h.Lower, h.Upper);
        });
        return LcBenchSurrogate.Hyperparameters.Select(n => byName[n]).ToArray();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
