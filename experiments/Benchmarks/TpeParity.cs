using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Benchmarks;

/// <summary>
/// Our <c>tpe</c> beside Optuna's TPESampler (experiments/optuna-parity/optuna_tpe.py, run with Debian's
/// python3-optuna 3.1) on the same functions, budgets and seeds: median and quartiles of simple regret
/// for each, a rank-sum test between the two sets of seeds, and on spaces with a categorical parameter how often
/// each category was suggested after the start-up trials.
/// </summary>
public static class TpeParity
{
    private const int StartupTrials = 10;

    /// <param name="optunaJson">Optuna's results saved from an earlier run of the script (same seeds and budgets), to skip the slow side.</param>
    public static int Run(int[] seeds, IReadOnlyCollection<string> functions, string? python, IReadOnlyDictionary<string, string> settings, string? optunaJson)
    {
        // The public suite unless --functions names others: Hartmann3 and Styblinski-Tang 4-D check parity off the rows it was judged on.
        var suite = functions.Count == 0 ? TestFunction.Suite
            : TestFunction.Suite.Concat([TestFunction.Hartmann3(), TestFunction.StyblinskiTang(4)]).Where(f => functions.Contains(f.Name)).ToArray();
        var script = FindScript("optuna_tpe.py");
        if (script is null)
        {
            Console.Error.WriteLine("experiments/optuna-parity/optuna_tpe.py not found above the current folder");
            return 1;
        }

        var ours = new Dictionary<string, (double[] Regrets, int[][]? Counts)>();
        var clock = Stopwatch.StartNew();
        foreach (var function in suite)
        {
            var regrets = new double[seeds.Length];
            var counts = new int[]?[seeds.Length];
            Parallel.For(0, seeds.Length, i => (regrets[i], counts[i]) = RunOurs(function, seeds[i], settings));
            ours[function.Name] = (regrets, counts[0] is null ? null : counts.Select(c => c!).ToArray());
        }
        Console.Error.WriteLine($"ours: {clock.Elapsed.TotalSeconds:F1} s");

        var output = optunaJson is null ? RunOptuna(python, script, seeds, suite) : File.ReadAllText(optunaJson);
        if (output is null) return 1;
        using var json = JsonDocument.Parse(output);
        foreach (var function in suite)
            if (!json.RootElement.GetProperty("functions").TryGetProperty(function.Name, out var saved)
                || !saved.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()).SequenceEqual(seeds) || saved.GetProperty("budget").GetInt32() != function.Budget)
            {
                Console.Error.WriteLine($"Optuna's results have no {function.Name} with seeds {Regret.SeedsText(seeds)} and {function.Budget} trials");
                return 1;
            }
        var version = json.RootElement.GetProperty("optuna").GetString();

        Console.WriteLine($"Simple regret, seeds {Regret.SeedsText(seeds)}, ours (tpe{(settings.Count > 0 ? " " + string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}")) : "")}) vs Optuna {version} TPESampler (defaults)");
        Console.WriteLine($"| {"function",-12} | {"budget",6} | {"ours median [q1, q3]",-30} | {"Optuna median [q1, q3]",-30} | {"rank-sum p",10} | verdict |");
        Console.WriteLine($"| {new string('-', 12)} | {new string('-', 6)} | {new string('-', 30)} | {new string('-', 30)} | {new string('-', 10)} | ------- |");
        var rows = new List<object>();
        foreach (var function in suite)
        {
            var mine = ours[function.Name].Regrets.Order().ToArray();
            var entry = json.RootElement.GetProperty("functions").GetProperty(function.Name);
            var theirs = entry.GetProperty("regrets").EnumerateArray().Select(e => e.GetDouble()).Order().ToArray();
            var (a, b) = (Summary(mine), Summary(theirs));
            var p = RankSumP(mine, theirs);
            var overlap = a.Q1 <= b.Q3 && b.Q1 <= a.Q3;
            var verdict = p >= 0.05 && overlap ? "within noise" : a.Median < b.Median ? "better" : "worse";
            Console.WriteLine($"| {function.Name,-12} | {function.Budget,6} | {Cell(a),-30} | {Cell(b),-30} | {p,10:F3} | {verdict} |");
            rows.Add(new { function = function.Name, function.Budget, seeds, ours = mine, optuna = theirs, p, verdict });
        }

        foreach (var function in suite.Where(f => ours[f.Name].Counts is not null))
        {
            var categories = function.Space.Parameters.OfType<CategoricalParameter>().First();
            var mine = ours[function.Name].Counts!;
            var theirs = json.RootElement.GetProperty("functions").GetProperty(function.Name).GetProperty("categoryCounts")
                .EnumerateArray().Select(s => s.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
            Console.WriteLine();
            Console.WriteLine($"{function.Name}: trials per category ({string.Join(", ", categories.Values)}) after the {StartupTrials} start-up trials, first 8 seeds");
            Console.WriteLine($"  ours:   {string.Join(" ", mine.Take(8).Select(c => $"[{string.Join(",", c)}]"))}");
            Console.WriteLine($"  Optuna: {string.Join(" ", theirs.Take(8).Select(c => $"[{string.Join(",", c)}]"))}");
            Console.WriteLine($"  seeds where a category got no trial: ours {mine.Count(c => c.Min() == 0)}/{seeds.Length}, Optuna {theirs.Count(c => c.Min() == 0)}/{seeds.Length}; " +
                              $"seeds where the best category ({categories.Values[^1]}) got most trials: ours {mine.Count(c => c[^1] == c.Max())}, Optuna {theirs.Count(c => c[^1] == c.Max())}");
        }
        Console.WriteLine(JsonSerializer.Serialize(rows));
        return 0;
    }

    private static string? RunOptuna(string? python, string script, int[] seeds, TestFunction[] suite) =>
        RunScript(python, script, new[] { "--seeds", string.Join(",", seeds) }.Concat(suite.Select(f => $"{f.Name}={f.Budget}")));

    /// <summary>A Python script's standard output (Debian's python3 unless <paramref name="python"/>); null where it failed.</summary>
    internal static string? RunScript(string? python, string script, IEnumerable<string> arguments)
    {
        var clock = Stopwatch.StartNew();
        python ??= DebianPython;
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true };
        foreach (var argument in arguments.Prepend(script)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"{python} {script} failed with exit code {process.ExitCode}");
            return null;
        }
        Console.Error.WriteLine($"optuna: {clock.Elapsed.TotalSeconds:F1} s");
        return output;
    }

    /// <summary>One run of our tpe: simple regret, and per category how many trials after start-up took it (null without a categorical parameter).</summary>
    private static (double Regret, int[]? Counts) RunOurs(TestFunction function, int seed, IReadOnlyDictionary<string, string> settings)
    {
        var categorical = function.Space.Parameters.OfType<CategoricalParameter>().FirstOrDefault();
        var counts = categorical is null ? null : new int[categorical.Values.Length];
        var best = Regret.RunOnce(function, "tpe", seed, settings, (trial, parameters) =>
        {
            if (counts is not null && trial >= StartupTrials) counts[categorical!.IndexOf(parameters[categorical.Name])]++;
        });
        return (best.Recommended - function.Optimum, counts);
    }

    private static (double Q1, double Median, double Q3) Summary(double[] sorted) =>
        (Regret.Quantile(sorted, 0.25), Regret.Quantile(sorted, 0.5), Regret.Quantile(sorted, 0.75));

    private static string Cell((double Q1, double Median, double Q3) s) =>
        $"{Regret.Format(s.Median)} [{Regret.Format(s.Q1)}, {Regret.Format(s.Q3)}]";

    /// <summary>Two-sided p of the Mann-Whitney rank-sum test, normal approximation with tie correction.</summary>
    internal static double RankSumP(double[] x, double[] y)
    {
        var all = x.Select(v => (v, 0)).Concat(y.Select(v => (v, 1))).OrderBy(t => t.v).ToArray();
        var ranks = new double[all.Length];
        var tieTerm = 0.0;
        for (var i = 0; i < all.Length;)
        {
            var j = i;
            while (j + 1 < all.Length && all[j + 1].v == all[i].v) j++;
            for (var k = i; k <= j; k++) ranks[k] = (i + j) / 2.0 + 1;
            var t = j - i + 1;
            tieTerm += (double)t * t * t - t;
            i = j + 1;
        }
        double n1 = x.Length, n2 = y.Length, n = n1 + n2;
        var r1 = Enumerable.Range(0, all.Length).Where(i => all[i].Item2 == 0).Sum(i => ranks[i]);
        var u = r1 - n1 * (n1 + 1) / 2;
        var sd = Math.Sqrt(n1 * n2 / 12 * (n + 1 - tieTerm / (n * (n - 1))));
        if (sd == 0) return 1;
        var z = (Math.Abs(u - n1 * n2 / 2) - 0.5) / sd;
        return Math.Min(1, 2 * (1 - Tuning.Algorithms.Numerics.NormalMath.Cdf(Math.Max(z, 0))));
    }

    /// <summary>Debian's python3, which has python3-optuna, before whatever python3 comes first on PATH.</summary>
    internal static string DebianPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>A script of experiments/optuna-parity, looked for above the current folder and above this program.</summary>
    internal static string? FindScript(string name) => FindAbove(Path.Combine("experiments", "optuna-parity", name));

    /// <summary>A file or folder at <paramref name="relativePath"/> below the current folder or this program's folder, or below one of their parents.</summary>
    internal static string? FindAbove(string relativePath)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var path = Path.Combine(dir.FullName, relativePath);
                if (File.Exists(path) || Directory.Exists(path)) return path;
            }
        return null;
    }
}
