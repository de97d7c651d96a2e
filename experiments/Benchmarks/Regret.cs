using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Benchmarks;

/// <summary>
/// Simple regret (best found − known optimum) of each algorithm on the public suite, over seeds, run
/// in-process one trial after another: median and quartiles, with random search beside them.
/// </summary>
public static class Regret
{
    public static readonly string[] Algorithms = ["random", "sobol", "tpe", "bayesian"];

    public static int Run(int seeds, IReadOnlyCollection<string> functions, IReadOnlyCollection<string> algorithms, string suite = "default", int? budget = null)
    {
        if (TestFunction.Named(suite) is not { } chosen)
        {
            Console.Error.WriteLine($"unknown suite '{suite}'; allowed: default, small");
            return 2;
        }
        var rows = new List<object>();
        foreach (var listed in chosen.Where(f => functions.Count == 0 || functions.Contains(f.Name)))
        {
            var function = budget is { } trials ? listed with { Budget = trials } : listed;
            Console.WriteLine($"{function.Name} ({function.Space.Dimensions}-D, {function.Budget} trials, {seeds} seeds, f* = {function.Optimum})");
            Console.WriteLine($"  {"algorithm",-10} {"median",12} {"q1",12} {"q3",12} {"s/run",8}");
            foreach (var algorithm in Algorithms.Where(a => algorithms.Count == 0 || algorithms.Contains(a)))
            {
                var clock = Stopwatch.StartNew();
                var regrets = new double[seeds];
                Parallel.For(0, seeds, seed => regrets[seed] = RunOnce(function, algorithm, seed) - function.Optimum);
                Array.Sort(regrets);
                var (q1, median, q3) = (Quantile(regrets, 0.25), Quantile(regrets, 0.5), Quantile(regrets, 0.75));
                var seconds = clock.Elapsed.TotalSeconds * Math.Min(Environment.ProcessorCount, seeds) / seeds;
                Console.WriteLine($"  {algorithm,-10} {Format(median),12} {Format(q1),12} {Format(q3),12} {seconds,8:F1}");
                rows.Add(new { function = function.Name, algorithm, seeds, budget = function.Budget, median, q1, q3, regrets });
            }
        }
        Console.WriteLine(JsonSerializer.Serialize(rows));
        return 0;
    }

    /// <summary>
    /// One sequential run of <paramref name="algorithmName"/> on <paramref name="function"/> for its budget: the best
    /// value found. <paramref name="suggested"/> hears each trial's number and parameters.
    /// </summary>
    public static double RunOnce(TestFunction function, string algorithmName, int seed, IReadOnlyDictionary<string, string>? settings = null,
        Action<int, IReadOnlyDictionary<string, ParameterValue>>? suggested = null)
    {
        var algorithm = AlgorithmCatalog.Find(algorithmName)!;
        // As a study creates it: with the study's budget.
        var suggester = algorithm.Create(settings ?? new Dictionary<string, string>(), function.Space, seed, function.Budget);
        var observations = new List<Observation>();
        var best = double.PositiveInfinity;
        for (var trial = 0; trial < function.Budget; trial++)
        {
            var parameters = suggester.Suggest(new SuggestionContext(trial, observations, []))!;
            suggested?.Invoke(trial, parameters);
            var value = function.Evaluate(parameters);
            observations.Add(new Observation(parameters, value));
            best = Math.Min(best, value);
        }
        return best;
    }

    internal static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    internal static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
