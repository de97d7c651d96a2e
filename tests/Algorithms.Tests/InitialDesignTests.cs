using Tuning.Algorithms.Sampling;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

/// <summary>The size of bayesian's initial design: from the space, capped by the budget, and shortened by a warm start.</summary>
public class InitialDesignTests
{
    private static readonly SearchSpace NineD = new(Enumerable.Range(1, 9).Select(i => new DoubleParameter($"x{i}", 0, 1)));

    private static double Sphere(IReadOnlyDictionary<string, ParameterValue> p) =>
        p.Values.Sum(v => Math.Pow(v.Number - 0.3, 2));

    /// <summary>The Sobol point the initial design gives trial <paramref name="n"/>.</summary>
    private static IReadOnlyDictionary<string, ParameterValue> Design(SearchSpace space, int seed, int n) =>
        space.FromUnit(new SobolSequence(space.Dimensions, seed).Point(n));

    private static List<Observation> Run(ISuggester suggester, int trials)
    {
        var observations = new List<Observation>();
        for (var n = 0; n < trials; n++)
        {
            var p = suggester.Suggest(new SuggestionContext(n, observations.ToArray(), []))!;
            observations.Add(new Observation(p, Sphere(p)));
        }
        return observations;
    }

    [Theory]
    [InlineData(9, null, 20)]   // no budget known: 2(d+1)
    [InlineData(9, 20, 5)]      // the issue's study: 5 Sobol points, 15 model-guided trials
    [InlineData(9, 40, 10)]
    [InlineData(6, 30, 7)]
    [InlineData(2, 15, 5)]
    [InlineData(2, 50, 6)]      // DESIGN.md's Branin: unchanged
    [InlineData(6, 100, 14)]    // DESIGN.md's Hartmann6: unchanged
    [InlineData(1, 10, 4)]      // 2(d+1) below 5 stays
    public void The_default_initial_design_is_sized_from_the_space_and_the_budget(int dimensions, int? maxTrials, int expected) =>
        Assert.Equal(expected, BayesianSettings.DefaultInitialTrials(dimensions, maxTrials));

    [Fact]
    public void Parallel_design_points_on_a_small_grid_are_all_different()
    {
        // Six points in all; eight trials asked at once, each seeing those handed out before it as pending.
        var space = new SearchSpace([new IntParameter("n", 0, 2), new CategoricalParameter("kind", ["a", "b"])]);
        var suggester = AlgorithmCatalog.Find("bayesian")!.Create(new Dictionary<string, string> { ["initialTrials"] = "8" }, space, 3, 8);
        var pending = new List<IReadOnlyDictionary<string, ParameterValue>>();
        for (var n = 0; n < 6; n++) pending.Add(suggester.Suggest(new SuggestionContext(n, [], pending.ToArray()))!);
        Assert.Equal(6, pending.Select(p => $"{p["n"]}/{p["kind"]}").Distinct().Count());
        // The same trial number and pending trials give the same point: a resumed study asks again and gets it.
        Assert.Equal(pending[5]["n"], suggester.Suggest(new SuggestionContext(5, [], pending.Take(5).ToArray()))!["n"]);
    }

    [Theory]
    [InlineData(null, 100, 1024)]
    [InlineData(null, 301, 256)]    // past 300 observations the default shrinks: each candidate costs O(n)
    [InlineData("2048", 301, 2048)] // a number the study file sets is used as it is, however many observations
    [InlineData("64", 10, 64)]
    public void Bayesian_scores_the_candidates_the_study_file_asks_for_and_shrinks_only_its_default(string? setting, int observations, int expected)
    {
        var settings = setting is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["candidates"] = setting };
        var reader = new SettingsReader(settings);
        Assert.Equal(expected, BayesianSettings.Read(reader, NineD).CandidatesAt(observations));
        Assert.Empty(reader.Finish());
    }

    [Fact]
    public void A_small_budget_leaves_most_trials_to_the_model_and_an_explicit_setting_wins()
    {
        var algorithm = AlgorithmCatalog.Find("bayesian")!;
        var budgeted = Run(algorithm.Create(new Dictionary<string, string>(), NineD, 3, maxTrials: 20), 8);
        var explicitSetting = Run(algorithm.Create(new Dictionary<string, string> { ["initialTrials"] = "20" }, NineD, 3, maxTrials: 20), 8);
        for (var n = 0; n < 8; n++)
        {
            // Trials 0-4 are the Sobol design either way; from trial 5 the budgeted suggester models.
            Assert.Equal(Design(NineD, 3, n), explicitSetting[n].Parameters);
            if (n < 5) Assert.Equal(Design(NineD, 3, n), budgeted[n].Parameters);
            else Assert.NotEqual(Design(NineD, 3, n), budgeted[n].Parameters);
        }
    }

    [Fact]
    public void A_warm_start_counts_towards_the_initial_design_and_leads_the_first_suggestion_to_its_best_region()
    {
        var space = new SearchSpace([new DoubleParameter("a", 0, 1), new DoubleParameter("b", 0, 1)]);
        IReadOnlyDictionary<string, ParameterValue> At(double a, double b) =>
            new Dictionary<string, ParameterValue> { ["a"] = ParameterValue.Of(a), ["b"] = ParameterValue.Of(b) };
        // An earlier study whose best point is (0.8, 0.2): a bowl around it, sampled on a coarse grid.
        var warm = (from a in new[] { 0.1, 0.3, 0.5, 0.7, 0.9 } from b in new[] { 0.1, 0.3, 0.5, 0.7, 0.9 }
                    select new Observation(At(a, b), Math.Pow(a - 0.8, 2) + Math.Pow(b - 0.2, 2))).ToArray();
        var suggester = AlgorithmCatalog.Find("bayesian")!.Create(new Dictionary<string, string>(), space, 5, maxTrials: 20);

        var cold = suggester.Suggest(new SuggestionContext(0, [], []))!;
        Assert.Equal(Design(space, 5, 0), cold);
        // The same observations handed over as this study's own would not end the design at trial 0; as a warm start they do.
        Assert.Equal(Design(space, 5, 0), suggester.Suggest(new SuggestionContext(0, warm, []))!);
        var warmed = suggester.Suggest(new SuggestionContext(0, warm, [], WarmStarted: warm.Length))!;
        Assert.NotEqual(cold, warmed);
        Assert.True(Math.Abs(warmed["a"].Number - 0.8) < 0.15 && Math.Abs(warmed["b"].Number - 0.2) < 0.15,
            $"the first warm-started suggestion ({warmed["a"]}, {warmed["b"]}) should be near the earlier study's best (0.8, 0.2)");
    }
}
