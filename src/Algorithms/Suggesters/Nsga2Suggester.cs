using Tuning.Algorithms.MultiObjective;
using Tuning.Algorithms.Sampling;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <param name="PopulationSize">The parents kept: the best this many finished trials; until that many have finished, trials are uniform.</param>
/// <param name="CrossoverProbability">How often a child mixes two parents rather than copying one.</param>
/// <param name="MutationProbability">Per parameter, how often the child's value is drawn afresh; null: 1/d.</param>
/// <param name="Crossover"><c>sbx</c> (simulated binary, on numeric parameters) or <c>uniform</c> (each value from either parent).</param>
public sealed record Nsga2Settings(int PopulationSize, double CrossoverProbability, double? MutationProbability, string Crossover)
{
    /// <summary>SBX's distribution index: children close to their parents, as Deb's NSGA-II sets it.</summary>
    public const double SbxEta = 20;

    public static Nsga2Settings Read(SettingsReader reader) => new(
        reader.Int("populationSize", 50, 2, 100_000),
        reader.Double("crossoverProbability", 0.9, 0, 1),
        reader.OptionalDouble("mutationProbability", 0, 1),
        reader.Choice("crossover", "sbx", "sbx", "uniform"));
}

/// <summary>
/// NSGA-II (Deb et al. 2002) as Optuna's <c>NSGAIISampler</c> runs it, made a function of the finished trials alone so a
/// resumed study suggests what an uninterrupted one would:
/// <list type="bullet">
/// <item>the parents are the best <c>populationSize</c> finished trials by constrained non-dominated rank (a feasible trial
/// before any infeasible one, less violation first among those), then crowding distance within the last front taken:
/// NSGA-II's elitist survival over every generation so far, without having to remember which trial was in which;</item>
/// <item>each parent of a child wins a binary tournament (lower rank, then larger crowding distance);</item>
/// <item>crossover (SBX on numeric parameters in the unit cube, categories from either parent; or uniform) with
/// <c>crossoverProbability</c>, else the first parent is copied; then each value is drawn afresh with
/// <c>mutationProbability</c> (Optuna's mutation);</item>
/// <item>failed trials are left out; until <c>populationSize</c> trials have finished, trials are uniform.</item>
/// </list>
/// With one objective it is a plain genetic algorithm on the loss.
/// </summary>
public sealed class Nsga2Suggester(SearchSpace space, int seed, Nsga2Settings settings) : ISuggester
{
    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context)
    {
        var random = new Random(Seeds.ForTrial(seed, context.TrialNumber));
        var finished = Observation.WithEveryObjective(context.Completed);
        if (finished.Length < settings.PopulationSize) return space.FromUnit(UniformPoint.Draw(random, space.Dimensions));

        var (population, rank, crowding) = Survivors(finished, settings.PopulationSize);
        int Tournament()
        {
            int a = random.Next(population.Length), b = random.Next(population.Length);
            return rank[a] != rank[b] ? (rank[a] < rank[b] ? a : b) : crowding[a] >= crowding[b] ? a : b;
        }
        var first = space.ToUnit(population[Tournament()].Parameters);
        var second = space.ToUnit(population[Tournament()].Parameters);
        var child = random.NextDouble() < settings.CrossoverProbability ? Cross(first, second, random) : first;
        var mutation = settings.MutationProbability ?? 1.0 / space.Dimensions;
        for (var i = 0; i < child.Length; i++)
            if (random.NextDouble() < mutation) child[i] = random.NextDouble();
        return space.FromUnit(child);
    }

    /// <summary>The best <paramref name="size"/> observations, with each one's rank and crowding distance within its front.</summary>
    private static (Observation[] Population, int[] Rank, double[] Crowding) Survivors(Observation[] finished, int size)
    {
        var points = finished.Select(o => o.Objectives!).ToArray();
        var violations = finished.Select(o => o.Violation).ToArray();
        var ranks = Pareto.Ranks(points, violations.Any(v => v > 0) ? violations : null);
        var crowding = Pareto.CrowdingWithinFronts(points, ranks);
        // Ties in crowding keep the earlier trial: the order is a function of the observations alone.
        var chosen = Enumerable.Range(0, finished.Length).OrderBy(i => ranks[i]).ThenByDescending(i => crowding[i]).ThenBy(i => i).Take(size).ToArray();
        return (chosen.Select(i => finished[i]).ToArray(), chosen.Select(i => ranks[i]).ToArray(), chosen.Select(i => crowding[i]).ToArray());
    }

    private double[] Cross(double[] first, double[] second, Random random)
    {
        var child = new double[first.Length];
        for (var i = 0; i < child.Length; i++)
        {
            var swap = random.NextDouble() < 0.5;
            child[i] = settings.Crossover == "sbx" && !space.Parameters[i].IsCategorical
                ? Sbx(first[i], second[i], random, swap)
                : swap ? second[i] : first[i];
        }
        return child;
    }

    /// <summary>One child of simulated binary crossover in [0, 1] (Deb and Agrawal's bounded form), the parents' spread kept on average.</summary>
    private static double Sbx(double a, double b, Random random, bool upper)
    {
        var (low, high) = a < b ? (a, b) : (b, a);
        var gap = high - low;
        if (gap < 1e-12) return a;
        var u = random.NextDouble();
        // Each side's spread is limited by how far that parent lies from its bound, so the child stays in the cube.
        double Beta(double distance)
        {
            var alpha = 2 - Math.Pow(1 + 2 * distance / gap, -(Nsga2Settings.SbxEta + 1));
            return u <= 1 / alpha
                ? Math.Pow(u * alpha, 1 / (Nsga2Settings.SbxEta + 1))
                : Math.Pow(1 / (2 - u * alpha), 1 / (Nsga2Settings.SbxEta + 1));
        }
        var child = upper
            ? 0.5 * (low + high + Beta(1 - high) * gap)
            : 0.5 * (low + high - Beta(low) * gap);
        return Math.Clamp(child, 0, 1);
    }
}
