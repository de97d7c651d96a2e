using System.Diagnostics;
using System.Text.Json;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Benchmarks;

/// <summary>
/// Our tpe's acquisition, log l(x) − log g(x), beside Optuna 3.1's (experiments/optuna-parity/optuna_tpe_densities.py)
/// on identical observations at identical points, one parameter at a time as univariate TPE scores them. The
/// densities are deterministic, so a difference between the two tpe's regrets that is not in these numbers is in
/// what they do with them: the start-up draws, the candidates drawn from l(x), the random streams.
/// </summary>
public static class TpeDensities
{
    private static readonly int[] ObservationCounts = [20, 50, 99];
    private const int Probes = 200;

    public static int Run(IReadOnlyCollection<string> functions, string? python, int seed)
    {
        var script = TpeParity.FindScript("optuna_tpe_densities.py");
        if (script is null)
        {
            Console.Error.WriteLine("experiments/optuna-parity/optuna_tpe_densities.py not found above the current folder");
            return 1;
        }
        var chosen = new[] { TestFunction.Branin(), TestFunction.Hartmann6(), TestFunction.Rosenbrock(4), TestFunction.Hartmann3(), TestFunction.StyblinskiTang(4) }
            .Where(f => functions.Count == 0 || functions.Contains(f.Name));
        Console.WriteLine($"log l(x) − log g(x), ours vs Optuna 3.1, on the first n trials of our tpe's run (seed {seed}), at {Probes} uniform points per parameter");
        Console.WriteLine("| function | n | largest difference | largest |score| | same best probe, parameters |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var function in chosen)
            foreach (var n in ObservationCounts)
            {
                var domains = function.Space.Parameters.Select(ParzenDomain.For).ToArray();
                var observations = new List<double[]>();
                Regret.RunOnce(function with { Budget = n }, "tpe", seed, suggested: (_, parameters) =>
                    observations.Add(function.Space.Parameters.Select((p, j) => domains[j].ToInternal(parameters[p.Name])).ToArray()));
                var losses = observations.Select(o => function.Function(o)).ToArray();
                var random = new Random(seed);
                var probes = Enumerable.Range(0, Probes).Select(_ => domains.Select(d => d.Low + random.NextDouble() * (d.High - d.Low)).ToArray()).ToArray();
                var ours = Scores(domains, observations, losses, probes);
                var theirs = Optuna(python, script, function, observations, losses, probes);
                if (theirs is null) return 1;
                var difference = ours.Zip(theirs, (a, b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max()).Max();
                var largest = ours.Max(s => s.Max(Math.Abs));
                var sameBest = ours.Zip(theirs).Count(p => Array.IndexOf(p.First, p.First.Max()) == Array.IndexOf(p.Second, p.Second.Max()));
                Console.WriteLine($"| {function.Name} | {n} | {Regret.Format(difference)} | {Regret.Format(largest)} | {sameBest} of {domains.Length} |");
            }
        return 0;
    }

    /// <summary>Per parameter, our univariate log l − log g at each probe, split as <see cref="TpeSuggester"/> splits finished trials.</summary>
    private static double[][] Scores(ParzenDomain[] domains, List<double[]> observations, double[] losses, double[][] probes)
    {
        var ranked = Enumerable.Range(0, losses.Length).OrderBy(i => losses[i]).ToArray();
        var belowCount = TpeSuggester.Gamma(losses.Length);
        var below = ranked.Take(belowCount).Order().ToArray();
        var above = ranked.Skip(belowCount).Order().ToArray();
        return domains.Select((domain, j) =>
        {
            var good = new ParzenEstimator([domain], below.Select(i => new[] { observations[i][j] }).ToArray(), 1.0, false);
            var bad = new ParzenEstimator([domain], above.Select(i => new[] { observations[i][j] }).ToArray(), 1.0, false);
            return probes.Select(p => good.LogPdf([p[j]]) - bad.LogPdf([p[j]])).ToArray();
        }).ToArray();
    }

    private static double[][]? Optuna(string? python, string script, TestFunction function, List<double[]> observations, double[] losses, double[][] probes)
    {
        var start = new ProcessStartInfo(python ?? TpeParity.DebianPython) { RedirectStandardInput = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(JsonSerializer.Serialize(new
        {
            parameters = function.Space.Parameters.Cast<DoubleParameter>().Select(p => new { name = p.Name, low = p.Min, high = p.Max }),
            observations, losses, probes,
        }));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"{script} failed with exit code {process.ExitCode}");
            return null;
        }
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("scores").EnumerateArray().Select(s => s.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
    }
}
