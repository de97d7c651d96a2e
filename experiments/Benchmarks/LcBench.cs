using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tuning.Algorithms.EarlyStopping;
using Tuning.Tuner;
using Tuning.Tuner.Grains;

namespace Tuning.Benchmarks;

/// <summary>What one study on one LCBench task came to.</summary>
/// <param name="BestFullLength">The best validation accuracy (%) of a trial that reached the last epoch; null where none did.</param>
/// <param name="Epochs">Epochs trained in all: the resource spent.</param>
/// <param name="WallSeconds">Simulated wall clock with the workers training at once, from the surrogate's time per epoch.</param>
/// <param name="BestSampled">
/// The best last-epoch accuracy of any configuration the study trained for at least an epoch, however early it was
/// stopped: where it is near the best known and <paramref name="BestFullLength"/> is not, the search found a good
/// configuration and its early stopping threw it away; where it is far too, the sampler never went near one. Null in
/// runs made before it was kept.
/// </param>
public sealed record LcBenchOutcome(double? BestFullLength, int Epochs, double WallSeconds, int Trials, int FullLength, double? BestSampled = null);

/// <summary>
/// Multi-fidelity search on LCBench's learning curves (issue 23): studies through the real grains in this process
/// (external trials: ask, one report of <c>val_accuracy</c> per epoch, tell), with several workers training at once
/// in simulated time. Each worker's next epoch ends at its trial's start plus the surrogate's <c>time</c> to that epoch;
/// events are taken in that order, so which reports a rule has seen when it judges is what it would have seen on
/// real machines, and the run is deterministic. The budget is in epochs, the study's own <c>budget.maxSteps</c>: the
/// report that spends it ends the study and the trials running. Per task: the best accuracy at the
/// last epoch, its distance to the best known (experiments/results/lcbench-best-known.json), epochs, wall time; Optuna
/// 3.1 beside it (lcbench_optuna.py) on the same curves, budget and workers.
/// </summary>
public static class LcBench
{
    public static readonly string[] TuningTasks = ["3945", "34539", "126025", "167104", "189906"];
    public static readonly string[] Algorithms = ["random", "tpe", "bayesian"];

    /// <summary>"none" and the rules of <see cref="EarlyStoppingCatalog"/>: median, asha and hyperband.</summary>
    public static string[] Rules => ["none", .. EarlyStoppingCatalog.Names];

    /// <summary>
    /// A rule's settings for curves of <see cref="LcBenchSurrogate.Epochs"/> epochs, as the study file writes them: asha's
    /// rungs at 1, 3, 9, 27 epochs; hyperband's brackets up to the last epoch. The others take their defaults.
    /// </summary>
    public static string RuleSettings(string rule) => rule switch
    {
        "asha" => "{minStep: 1, reductionFactor: 3}",
        "hyperband" => $"{{minStep: 1, maxStep: {LcBenchSurrogate.Epochs}, reductionFactor: 3}}",
        _ => "{}",
    };

    /// <summary>The epoch budget of the issue: 20 full-length trials' worth.</summary>
    public const int DefaultBudget = 20 * LcBenchSurrogate.Epochs;

    public const int DefaultWorkers = 4;

    private const string Metric = "val_accuracy";

    /// <summary>camelCase both ways, as lcbench_optuna.py writes its runs; "+" of a set-up left as it is.</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="Settings">Each rule's settings as the study file writes them: <see cref="RuleSettings"/> unless other ones are tried.</param>
    public sealed record Options(string[] Tasks, string[] Algorithms, string[] Rules, IReadOnlyDictionary<string, string> Settings, int[] Seeds, int Budget, int Workers,
        string? Folder, bool Optuna, string? OptunaJson, string? Out);

    public static async Task<int> RunAsync(Options options)
    {
        using var surrogate = new LcBenchSurrogate(options.Folder);
        if (options.Tasks.FirstOrDefault(t => !surrogate.Tasks.Contains(t)) is { } unknown)
        {
            Console.Error.WriteLine($"task {unknown} is not one of LCBench's: {string.Join(", ", surrogate.Tasks)}");
            return 2;
        }
        if (options.Rules.FirstOrDefault(r => !Rules.Contains(r)) is { } rule)
        {
            Console.Error.WriteLine($"unknown early-stopping rule '{rule}'; allowed: {string.Join(", ", Rules)}");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var cells = new List<Cell>();
        var data = Directory.CreateTempSubdirectory("tuning-lcbench-").FullName;
        try
        {
            using var host = TuningSilo.BuildEmbeddedHost(data);
            await host.StartAsync();
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            foreach (var task in options.Tasks)
                foreach (var algorithm in options.Algorithms)
                    foreach (var name in options.Rules)
                    {
                        var outcomes = new List<LcBenchOutcome>();
                        var settings = options.Settings.GetValueOrDefault(name, RuleSettings(name));
                        foreach (var seed in options.Seeds)
                            outcomes.Add(await RunStudyAsync(grains, surrogate, task, algorithm, name, settings, seed, options.Budget, options.Workers));
                        // Settings other than the usual ones are part of the set-up's name, so the tables tell them apart.
                        var setup = settings == RuleSettings(name) ? $"{algorithm}+{name}" : $"{algorithm}+{name} {settings}";
                        cells.Add(Cell.Of("ours", task, setup, options.Seeds, outcomes));
                        Console.Error.WriteLine($"{task} {algorithm}+{name}: {Show(cells[^1].BestFullLength)}% ({clock.Elapsed.TotalSeconds:F0} s)");
                    }
            await host.StopAsync();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }

        if (options.Optuna || options.OptunaJson is not null)
        {
            var optuna = options.OptunaJson is { } saved ? File.ReadAllText(saved) : RunOptuna(surrogate.Folder, options);
            if (optuna is null) return 1;
            using var json = JsonDocument.Parse(optuna);
            foreach (var cell in json.RootElement.GetProperty("cells").EnumerateArray())
            {
                var outcomes = cell.GetProperty("runs").Deserialize<LcBenchOutcome[]>(Json)!;
                if (outcomes.Length != options.Seeds.Length || outcomes.Any(o => o.Epochs != options.Budget))
                {
                    Console.Error.WriteLine($"Optuna's results hold {outcomes.Length} runs of {outcomes.Max(o => o.Epochs)} epochs, not {options.Seeds.Length} of {options.Budget}");
                    return 1;
                }
                cells.Add(Cell.Of("optuna", cell.GetProperty("task").GetString()!, cell.GetProperty("setup").GetString()!, options.Seeds, outcomes));
            }
        }

        // Read once the runs are over, so a long run may start while the best known are still being computed.
        var bestKnown = LcBenchBestKnown.Load();
        if (options.Tasks.Where(t => !bestKnown.ContainsKey(t)).ToArray() is { Length: > 0 } withoutBestKnown)
            Console.Error.WriteLine($"no best known accuracy for {string.Join(", ", withoutBestKnown)} ({LcBenchBestKnown.RelativePath} not found above " +
                "the working directory, or without them): their distances are left out");
        cells = cells.Select(c => c.Measured(bestKnown)).ToList();
        PrintTable(cells, options, bestKnown);
        var result = new { benchmark = "lcbench", budgetEpochs = options.Budget, workers = options.Workers, seeds = options.Seeds, bestKnown, cells };
        var text = JsonSerializer.Serialize(result, Json);
        Console.WriteLine(text);
        if (options.Out is { } path) File.WriteAllText(path, text + "\n");
        return 0;
    }

    /// <summary>One study: <paramref name="workers"/> simulated machines ask for trials, train them epoch by epoch and report each epoch, until the epochs trained reach <paramref name="budget"/>.</summary>
    public static async Task<LcBenchOutcome> RunStudyAsync(IGrainFactory grains, LcBenchSurrogate surrogate, string task, string algorithm, string rule,
        string settings, int seed, int budget, int workers)
    {
        var yaml = $$"""
            name: lcbench-{{task}}
            objective: {metric: {{Metric}}, goal: maximize}
            algorithm: {name: {{algorithm}}, seed: {{seed}}}
            {{(rule == "none" ? "" : $"earlyStopping: {{name: {rule}, settings: {settings}}}")}}
            budget: {maxSteps: {{budget}}, maxTrials: {{budget}}, parallelTrials: {{workers}}, maxFailedTrials: 0}
            parameters:
            {{surrogate.ParametersYaml()}}
            trial:
              external: {heartbeatTimeout: 1h}
            """;
        // maxSteps ends the run, never maxTrials (every trial trains an epoch at least); the heartbeat timeout outlasts any
        // run, since simulated hours pass in real seconds and no trial is ever silent.
        var study = grains.GetGrain<IStudyGrain>(Guid.NewGuid());
        await study.Create(new StudySource(yaml, "."), seed);
        await study.Start();

        // Each running trial's next epoch, ordered by when it ends in simulated time (then by the order it was queued, so ties are deterministic).
        var events = new PriorityQueue<Running, (double Time, long Order)>();
        long order = 0;
        var (trials, fullLength) = (0, 0);
        double? best = null;
        double? bestSampled = null;
        var now = 0.0;

        async Task<bool> Launch(double at)
        {
            var answer = await study.Ask();
            if (answer.Trial is not { } trial) return false;
            var configuration = trial.Parameters.ToDictionary(p => p.Key, p => p.Value.Number);
            var running = new Running(trial.Number, trial.Attempt!, at, surrogate.Curve(task, configuration));
            events.Enqueue(running, (running.EndOf(1), order++));
            trials++;
            return true;
        }

        for (var w = 0; w < workers; w++) await Launch(0);
        // Until the study refuses a report: the budget's last one ended it.
        while (events.TryDequeue(out var running, out var when))
        {
            var epoch = running.Curve[running.Epoch - 1];
            var answer = await study.Report(running.Number, running.Attempt, epoch.Epoch, new() { [Metric] = epoch.ValAccuracy });
            if (answer.Refusal != Refusal.None) break;
            now = when.Time;
            // A configuration counts as tried once it trained an epoch: the last trials asked for may never start.
            if (epoch.Epoch == 1) bestSampled = Math.Max(bestSampled ?? double.MinValue, running.Curve[^1].ValAccuracy);
            var ended = answer.StopReason is not null;
            if (!ended && epoch.Epoch == LcBenchSurrogate.Epochs)
            {
                await study.Tell(running.Number, running.Attempt, new() { [Metric] = epoch.ValAccuracy }, null);
                (best, fullLength, ended) = (Math.Max(best ?? double.MinValue, epoch.ValAccuracy), fullLength + 1, true);
            }
            if (!ended)
            {
                running.Epoch++;
                events.Enqueue(running, (Math.Max(now, running.EndOf(running.Epoch)), order++));
            }
            else await Launch(now);
        }
        var end = await study.GetSnapshot();
        if (end.Status != StudyStatus.Succeeded)
            throw new InvalidOperationException($"lcbench-{task} {algorithm}+{rule} seed {seed} ended {end.Status}: {end.Reason}");
        return new LcBenchOutcome(best, (int)end.Spent.Steps, now, trials, fullLength, bestSampled);
    }

    /// <summary>A trial on a simulated worker: its whole curve, known in advance, and the next epoch to report.</summary>
    private sealed class Running(int number, string attempt, double start, LcBenchEpoch[] curve)
    {
        public int Number { get; } = number;
        public string Attempt { get; } = attempt;
        public LcBenchEpoch[] Curve { get; } = curve;
        public int Epoch { get; set; } = 1;

        /// <summary>When training up to the end of <paramref name="epoch"/> ends, in simulated seconds.</summary>
        public double EndOf(int epoch) => start + Curve[epoch - 1].Time;
    }

    /// <summary>One set-up on one task over the seeds: medians, and each seed's outcome.</summary>
    /// <param name="SampledDistance">The median distance of <see cref="LcBenchOutcome.BestSampled"/> to the best known, where every run kept it.</param>
    public sealed record Cell(string Side, string Task, string Setup, int[] Seeds, LcBenchOutcome[] Runs,
        double BestFullLength, double? Distance, double Epochs, double WallSeconds, double? SampledDistance = null)
    {
        public static Cell Of(string side, string task, string setup, int[] seeds, IReadOnlyList<LcBenchOutcome> runs) =>
            // A run with no full-length trial found nothing: it counts as the worst, 0%.
            new(side, task, setup, seeds, [.. runs], Median(runs.Select(r => r.BestFullLength ?? 0).ToArray()), null,
                Median(runs.Select(r => (double)r.Epochs).ToArray()), Math.Round(Median(runs.Select(r => r.WallSeconds).ToArray())));

        /// <summary>With the distances to the task's best known accuracy, where it is known.</summary>
        public Cell Measured(IReadOnlyDictionary<string, double> bestKnown) => bestKnown.TryGetValue(Task, out var known)
            ? this with
            {
                Distance = Math.Round(known - BestFullLength, 3),
                SampledDistance = Runs.All(r => r.BestSampled is not null) ? Math.Round(known - Median(Runs.Select(r => r.BestSampled!.Value).ToArray()), 3) : null,
            }
            : this;
    }

    private static double Median(double[] values) => Regret.Quantile([.. values.Order()], 0.5);

    private static string Show(double? value) => value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";

    /// <summary>Distance to the best known by set-up and task, the wall time beside it, and per task which side's best set-up is nearer.</summary>
    private static void PrintTable(List<Cell> cells, Options options, IReadOnlyDictionary<string, double> bestKnown)
    {
        Console.WriteLine($"LCBench: distance of the best {LcBenchSurrogate.Epochs}-epoch validation accuracy to the best known (points; median of seeds " +
            $"{string.Join(", ", options.Seeds)}), budget {options.Budget} epochs, {options.Workers} workers; in brackets the simulated wall time (hours)");
        Console.WriteLine($"| {"set-up",-28} | {string.Join(" | ", options.Tasks.Select(t => $"{t,16}"))} |");
        Console.WriteLine($"| {new string('-', 28)} | {string.Join(" | ", options.Tasks.Select(_ => new string('-', 16)))} |");
        foreach (var setup in cells.Select(c => (c.Side, c.Setup)).Distinct())
            Console.WriteLine($"| {$"{setup.Side} {setup.Setup}",-28} | " + string.Join(" | ", options.Tasks.Select(t =>
                cells.FirstOrDefault(c => c.Side == setup.Side && c.Setup == setup.Setup && c.Task == t) is { } cell
                    ? $"{$"{Show(cell.Distance)} ({cell.WallSeconds / 3600:F1} h)",16}" : $"{"",16}")) + " |");
        Console.WriteLine($"| {"best known (%)",-28} | {string.Join(" | ", options.Tasks.Select(t => $"{(bestKnown.TryGetValue(t, out var k) ? Show(k) : "-"),16}"))} |");
        // Every cell spends the whole budget unless its studies stopped handing out trials: say so rather than a column of 1,040s.
        var epochs = cells.Select(c => c.Epochs).Distinct().Order().ToArray();
        Console.WriteLine($"epochs trained, median of the seeds: {string.Join(", ", epochs)}" +
            (epochs.Length > 1 ? $" (below the budget: {string.Join(", ", cells.Where(c => c.Epochs < options.Budget).Select(c => $"{c.Side} {c.Setup} on {c.Task}"))})" : " in every cell"));
        // The issue's yardstick: our best set-up against the best of Optuna's sampler-pruner pairs, task by task.
        foreach (var task in options.Tasks)
        {
            var best = cells.Where(c => c.Task == task && c.Distance is not null).GroupBy(c => c.Side).ToDictionary(g => g.Key, g => g.MinBy(c => c.Distance)!);
            if (best.TryGetValue("ours", out var ours) && best.TryGetValue("optuna", out var optuna))
                Console.WriteLine($"{task}: ours best {ours.Setup} {Show(ours.Distance)} (the best configuration it trained, however briefly: {Show(ours.SampledDistance)}), " +
                    $"Optuna's best {optuna.Setup} {Show(optuna.Distance)} points from the best known");
        }
    }

    /// <summary>lcbench_optuna.py's JSON for the same tasks, seeds, budget and workers; null where it failed.</summary>
    private static string? RunOptuna(string folder, Options options) =>
        RunScript(folder, "--tasks", string.Join(',', options.Tasks), "--seeds", string.Join(',', options.Seeds),
            "--budget", $"{options.Budget}", "--workers", $"{options.Workers}");

    /// <summary>What lcbench_optuna.py (Debian's python3) prints, given the surrogate's folder and <paramref name="arguments"/>; null where it failed.</summary>
    private static string? RunScript(string folder, params string[] arguments)
    {
        var script = TpeParity.FindAbove(Path.Combine("experiments", "Benchmarks", "lcbench_optuna.py"));
        if (script is null)
        {
            Console.Error.WriteLine("experiments/Benchmarks/lcbench_optuna.py not found above the current folder");
            return null;
        }
        var start = new ProcessStartInfo(TpeParity.DebianPython) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { script, "--lcbench", folder }.Concat(arguments)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode == 0) return output;
        Console.Error.WriteLine($"lcbench_optuna.py exited {process.ExitCode} (it needs Debian's python3-optuna and python3-onnx)");
        return null;
    }

    /// <summary>
    /// Our curves (ONNX Runtime on model.onnx) against lcbench.py's (numpy on the same graph) at every epoch, for a
    /// default, an extreme and a middling configuration on two tasks: both run the model in float32, so they agree to
    /// rounding.
    /// </summary>
    public static int Check(string? folder)
    {
        using var surrogate = new LcBenchSurrogate(folder);
        Dictionary<string, double>[] configurations =
        [
            new() { ["batch_size"] = 91, ["learning_rate"] = 0.0031622777, ["momentum"] = 0.545, ["weight_decay"] = 0.050005, ["num_layers"] = 3, ["max_units"] = 256, ["max_dropout"] = 0.5 },
            new() { ["batch_size"] = 16, ["learning_rate"] = 0.1, ["momentum"] = 0.99, ["weight_decay"] = 0.1, ["num_layers"] = 5, ["max_units"] = 1024, ["max_dropout"] = 1.0 },
            new() { ["batch_size"] = 300, ["learning_rate"] = 0.0005, ["momentum"] = 0.2, ["weight_decay"] = 0.001, ["num_layers"] = 1, ["max_units"] = 100, ["max_dropout"] = 0.1 },
        ];
        var worst = (Accuracy: 0.0, Time: 0.0);
        foreach (var task in new[] { "3945", "189906" })
            foreach (var configuration in configurations)
            {
                var theirs = RunScript(surrogate.Folder, "--curve", task, JsonSerializer.Serialize(configuration));
                if (theirs is null) return 1;
                var rows = JsonSerializer.Deserialize<double[][]>(theirs)!;
                var ours = surrogate.Curve(task, configuration);
                for (var e = 0; e < LcBenchSurrogate.Epochs; e++)
                    worst = (Math.Max(worst.Accuracy, Math.Abs(ours[e].ValAccuracy - rows[e][1])),
                        Math.Max(worst.Time, Math.Abs(ours[e].Time - rows[e][0]) / Math.Max(1, Math.Abs(rows[e][0]))));
                Console.WriteLine($"{task} epoch 1/52: ours {ours[0].ValAccuracy:F3}%/{ours[^1].ValAccuracy:F3}% in {ours[^1].Time:F1} s, " +
                    $"lcbench.py {rows[0][1]:F3}%/{rows[^1][1]:F3}% in {rows[^1][0]:F1} s");
            }
        // Float32 sums taken in another order, amplified where the model exponentiates (time): measured 0.0004 points
        // and 0.2% here; a wrong input order or scaling is off by whole points.
        var agree = worst.Accuracy < 0.01 && worst.Time < 0.01;
        Console.WriteLine($"largest difference over 52 epochs: {worst.Accuracy:G3} points of accuracy, {worst.Time:G3} of time (relative): {(agree ? "agree" : "DIFFER")}");
        return agree ? 0 : 1;
    }
}
