using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Benchmarks;

/// <summary>The true values, on the noiseless function, of a run's best observed trial and of its recommended trial.</summary>
public sealed record RunOutcome(double BestObserved, double Recommended);

/// <summary>
/// Simple regret of each algorithm on the public suite and ours, over seeds, run in-process: median and quartiles,
/// with random search beside them. Regret is the true value of the trial the study recommends (by the model's
/// posterior mean where the function is noisy, <see cref="Recommendation"/>) minus the optimum.
/// </summary>
public static class Regret
{
    public static readonly string[] Algorithms = ["random", "sobol", "tpe", "bayesian"];

    /// <summary>
    /// The seeds the tables report. Constants are chosen on seeds 0-9 (<c>--seeds 0-9</c>), so that no figure shows
    /// the seeds it was tuned on: the last round's tables did, and functions it had not seen did worse than its rows.
    /// </summary>
    public static readonly int[] HeldOutSeeds = [.. Enumerable.Range(100, 10)];

    /// <summary>
    /// Seeds written as <c>FIRST-LAST</c> or <c>a,b,c</c>, or a mix (<c>0-4,9</c>); an unnamed option's
    /// <paramref name="fallback"/> as it is.
    /// </summary>
    public static int[] ParseSeeds(string? written, int[] fallback) => written is null ? fallback :
    [
        .. written.Split(',', StringSplitOptions.RemoveEmptyEntries).SelectMany(part =>
        {
            var ends = part.Split('-', 2).Select(e => int.Parse(e, CultureInfo.InvariantCulture)).ToArray();
            return Enumerable.Range(ends[0], ends[^1] - ends[0] + 1);
        }),
    ];

    /// <summary>How many trials run at once in the <c>parallel</c> suite.</summary>
    private static readonly int[] ParallelTrials = [1, 4, 8];

    public static int Run(int[] seeds, IReadOnlyCollection<string> functions, IReadOnlyCollection<string> algorithms, IReadOnlyList<string> suites, int? budget = null)
    {
        if (suites.FirstOrDefault(s => TestFunction.Named(s) is null) is { } unknown)
        {
            Console.Error.WriteLine($"unknown suite '{unknown}'; allowed: {string.Join(", ", TestFunction.SuiteNames)}, all");
            return 2;
        }
        var rows = new List<object>();
        var total = Stopwatch.StartNew();
        foreach (var suite in suites)
            foreach (var listed in TestFunction.Named(suite)!.Where(f => functions.Count == 0 || functions.Contains(f.Name)))
            {
                var function = budget is { } trials ? listed with { Budget = trials } : listed;
                // Parallel rows compare the model-based searches with themselves run sequentially; random search is the floor.
                var parallelism = suite == "parallel" ? ParallelTrials : [1];
                var names = suite == "parallel" ? ["random", "tpe", "bayesian"] : Algorithms;
                foreach (var parallel in parallelism)
                {
                    Console.WriteLine($"{function.Name} ({function.Space.Dimensions}-D, {function.Budget} trials{(parallel > 1 ? $", {parallel} at once" : "")}, " +
                        $"seeds {SeedsText(seeds)}, f* = {function.Optimum}{(function.Noise > 0 ? $", noise sd {function.Noise}" : "")})");
                    Console.WriteLine($"  {"algorithm",-10} {"median",12} {"q1",12} {"q3",12}{(function.Noise > 0 ? $" {"best drawn",12}" : "")} {"s/run",8}");
                    foreach (var algorithm in names.Where(a => algorithms.Count == 0 || algorithms.Contains(a)))
                    {
                        if (parallel > 1 && algorithm == "random") continue;
                        if (AlgorithmCatalog.Find(algorithm)!.Validate(new Dictionary<string, string>(), function.Space).Count > 0)
                        {
                            Console.WriteLine($"  {algorithm,-10} (does not take this space)");
                            continue;
                        }
                        var clock = Stopwatch.StartNew();
                        var outcomes = new RunOutcome[seeds.Length];
                        Parallel.For(0, seeds.Length, i => outcomes[i] = RunOnce(function, algorithm, seeds[i], parallel: parallel));
                        var regrets = outcomes.Select(o => o.Recommended - function.Optimum).ToArray();
                        var drawn = outcomes.Select(o => o.BestObserved - function.Optimum).Order().ToArray();
                        var sorted = regrets.Order().ToArray();
                        var (q1, median, q3) = (Quantile(sorted, 0.25), Quantile(sorted, 0.5), Quantile(sorted, 0.75));
                        var seconds = clock.Elapsed.TotalSeconds * Math.Min(Environment.ProcessorCount, seeds.Length) / seeds.Length;
                        Console.WriteLine($"  {algorithm,-10} {Format(median),12} {Format(q1),12} {Format(q3),12}" +
                            $"{(function.Noise > 0 ? $" {Format(Quantile(drawn, 0.5)),12}" : "")} {seconds,8:F1}");
                        rows.Add(new
                        {
                            suite, function = function.Name, algorithm, seeds, budget = function.Budget, parallel, noise = function.Noise,
                            median, q1, q3, regrets, // by seed, as bestDrawn
                            bestDrawn = outcomes.Select(o => o.BestObserved - function.Optimum).ToArray(), secondsPerRun = seconds,
                        });
                    }
                }
            }
        Console.WriteLine($"total {total.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine(JsonSerializer.Serialize(rows));
        return 0;
    }

    /// <summary>
    /// One run of <paramref name="algorithmName"/> on <paramref name="function"/> for its budget, with
    /// <paramref name="parallel"/> trials running at once: each new suggestion sees the others as pending, and trials
    /// finish in the order they started (equal durations). <paramref name="suggested"/> hears each trial's number and
    /// parameters.
    /// </summary>
    public static RunOutcome RunOnce(TestFunction function, string algorithmName, int seed, IReadOnlyDictionary<string, string>? settings = null,
        Action<int, IReadOnlyDictionary<string, ParameterValue>>? suggested = null, int parallel = 1)
    {
        var algorithm = AlgorithmCatalog.Find(algorithmName)!;
        // As a study creates it: with the study's budget.
        var suggester = algorithm.Create(settings ?? new Dictionary<string, string>(), function.Space, seed, function.Budget);
        var observations = new List<Observation>();
        var values = new List<double>();
        var running = new Queue<IReadOnlyDictionary<string, ParameterValue>>();
        var next = 0;
        while (observations.Count < function.Budget)
        {
            for (; next < function.Budget && running.Count < parallel; next++)
            {
                var parameters = suggester.Suggest(new SuggestionContext(next, observations, running.ToArray()))!;
                suggested?.Invoke(next, parameters);
                running.Enqueue(parameters);
            }
            var finished = running.Dequeue();
            var value = function.Evaluate(finished);
            values.Add(value);
            observations.Add(new Observation(finished, value + function.Noise * GpPriors.Gaussian(new Random(Seeds.ForTrial(seed ^ NoiseSalt, values.Count)))));
        }
        var luckiest = Enumerable.Range(0, values.Count).MinBy(i => observations[i].Loss!.Value);
        var recommended = function.Noise > 0 ? Recommendation.Best(function.Space, observations)!.Index : luckiest;
        return new RunOutcome(values[luckiest], values[recommended]);
    }

    private const int NoiseSalt = 0x6E6F6973;

    /// <summary>Seeds as <see cref="ParseSeeds"/> reads them: a run of consecutive seeds as <c>FIRST-LAST</c>.</summary>
    internal static string SeedsText(int[] seeds) =>
        seeds.Length > 1 && seeds.Zip(seeds.Skip(1)).All(p => p.Second == p.First + 1) ? $"{seeds[0]}-{seeds[^1]}" : string.Join(",", seeds);

    internal static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    internal static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
