using Tuning.Algorithms.Sampling;
using System.Diagnostics;
using System.Text.Json;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Benchmarks;

/// <summary>
/// Milliseconds of one suggestion given N completed observations in D dimensions (Branin in 2, Hartmann6 in 6,
/// Styblinski-Tang in 20, where bayesian's additive kernel competes with the product kernel). Each suggester first
/// sees N−W observations (untimed, as in a running study, where the previous fit warms the next), then the W
/// suggestions up to N observations are timed, W = max(10, N/16): enough that the window holds one of bayesian's
/// checkpoint fits, so the mean is the cost per suggestion a running study pays and the median the usual one.
/// Printed as JSON on standard output.
/// </summary>
public static class Latency
{
    public static int Run()
    {
        var rows = new List<object>();
        foreach (var algorithm in new[] { "bayesian", "tpe" })
            foreach (var dimensions in new[] { 2, 6, 20 })
                foreach (var observations in new[] { 25, 100, 300, 1000 })
                {
                    var (median, mean) = Measure(algorithm, dimensions, observations);
                    Console.Error.WriteLine($"{algorithm,-9} D={dimensions} N={observations,5}: median {median,9:F2} ms, mean {mean,9:F2} ms");
                    rows.Add(new { algorithm, observations, dimensions, milliseconds = Math.Round(median, 3), meanMilliseconds = Math.Round(mean, 3) });
                }
        Console.WriteLine(JsonSerializer.Serialize(rows));
        return 0;
    }

    private static (double Median, double Mean) Measure(string algorithm, int dimensions, int count)
    {
        var function = dimensions switch { 2 => TestFunction.Branin(), 6 => TestFunction.Hartmann6(), _ => TestFunction.StyblinskiTang(dimensions) };
        var random = new Random(dimensions * 1000 + count);
        var history = Enumerable.Range(0, count).Select(_ =>
        {
            var parameters = function.Space.FromUnit(UniformPoint.Draw(random, dimensions));
            return new Observation(parameters, function.Evaluate(parameters));
        }).ToArray();
        var suggester = AlgorithmCatalog.Find(algorithm)!.Create(new Dictionary<string, string>(), function.Space, 1);
        var window = Math.Max(10, count / 16);
        suggester.Suggest(new SuggestionContext(count - window, history[..(count - window)], []));
        var times = new List<double>();
        for (var n = count - window + 1; n <= count; n++)
        {
            var clock = Stopwatch.StartNew();
            suggester.Suggest(new SuggestionContext(n, history[..n], []));
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], times.Average());
    }
}
