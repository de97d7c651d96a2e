using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

/// <summary>
/// Our TPE against Optuna 3.1's TPESampler, rule by rule. The expected numbers were worked out by hand from
/// optuna/samplers/_tpe/parzen_estimator.py and checked against Optuna's own _ParzenEstimator on the same data.
/// </summary>
public class TpeTests
{
    private static ParzenEstimator Estimator(Parameter parameter, params double[] observed) =>
        new([ParzenDomain.For(parameter)], observed.Select(v => new[] { v }).ToArray(), 1.0, multivariate: false);

    [Fact]
    public void Trials_stopped_early_rank_after_finished_ones_then_by_the_step_they_reached_then_value()
    {
        // Ten finished trials with loss x near 0..1, and ten stopped at step 1 near x = 9 with a loss far lower than
        // any finished one's. γ(20) = 2: l(x) holds the two best finished trials, near 0, not the stopped ones.
        var space = new SearchSpace([new DoubleParameter("x", 0, 10)]);
        var finished = Enumerable.Range(0, 10).Select(i => new Observation(X(i * 0.1), i * 0.1));
        var stopped = Enumerable.Range(0, 10).Select(i => new Observation(X(9 + i * 0.1), -100, StoppedAt: 1));
        var suggester = new TpeSuggester(space, 3, TpeSettings.Read(new SettingsReader(new Dictionary<string, string>())));
        var observations = finished.Concat(stopped).ToArray();
        var suggested = Enumerable.Range(20, 10).Select(n => suggester.Suggest(new SuggestionContext(n, observations, []))["x"].Number).ToArray();
        Assert.All(suggested, x => Assert.InRange(x, 0, 4));
        // Among stopped trials the further one got leads, whatever its value: two stopped at step 9 near x = 1 form
        // l(x), not the eighteen far better values of trials stopped at step 1 from x = 5 on.
        var further = new[] { new Observation(X(1), 50, StoppedAt: 9), new Observation(X(1.1), 60, StoppedAt: 9) };
        var stoppedOnly = Enumerable.Range(0, 18).Select(i => new Observation(X(5 + i * 0.25), -100 - i, StoppedAt: 1)).Concat(further).ToArray();
        Assert.All(Enumerable.Range(20, 10).Select(n => suggester.Suggest(new SuggestionContext(n, stoppedOnly, []))["x"].Number), x => Assert.InRange(x, 0, 3));

        static Dictionary<string, ParameterValue> X(double x) => new() { ["x"] = ParameterValue.Of(x) };
    }

    [Fact]
    public void Gamma_is_a_tenth_rounded_up_and_at_most_25()
    {
        Assert.Equal([0, 1, 1, 1, 2, 10, 25, 25], new[] { 0, 1, 9, 10, 11, 100, 250, 1000 }.Select(TpeSuggester.Gamma));
    }

    [Fact]
    public void Weights_ramp_up_old_observations_from_25_on()
    {
        Assert.Equal(Enumerable.Repeat(1.0, 24), TpeSuggester.Weights(24));
        Assert.Equal(Enumerable.Repeat(1.0, 25), TpeSuggester.Weights(25));
        Assert.Equal([1.0 / 26, .. Enumerable.Repeat(1.0, 25)], TpeSuggester.Weights(26));
        // numpy.linspace(1/30, 1, 5) for the five oldest of 30.
        var weights = TpeSuggester.Weights(30);
        double[] ramp = [1.0 / 30, 1.0 / 30 + 0.25 * 29 / 30, 1.0 / 30 + 0.5 * 29 / 30, 1.0 / 30 + 0.75 * 29 / 30, 1.0];
        for (var i = 0; i < 5; i++) Assert.Equal(ramp[i], weights[i], 12);
        Assert.All(weights[5..], w => Assert.Equal(1.0, w));
    }

    [Fact]
    public void Bandwidths_come_from_neighbours_with_the_prior_among_them_then_the_magic_clip()
    {
        // x in [0, 10], observed 1, 2, 7; the prior sits at 5. Sorted with the ends: 0 | 1 2 5 7 | 10.
        // 1: the lowest, takes its inner gap 1; 2: max(1, 3) = 3; 7: the highest, takes its inner gap 2.
        // Clip to at least 10 / min(100, 1 + 4 components) = 2: 1 -> 2. The prior is as wide as the range.
        var estimator = Estimator(new DoubleParameter("x", 0, 10), 1, 2, 7);
        Assert.Equal([1.0, 2, 7, 5], estimator.Mus[0]!);
        Assert.Equal([2.0, 3, 2, 10], estimator.Sigmas[0]!);
        Assert.Equal([0.25, 0.25, 0.25, 0.25], estimator.Weights);
        // Optuna's _ParzenEstimator.log_pdf at 0.5, 3.0 and 9.9.
        Assert.Equal(-0.70506759, estimator.LogPdf([0.5]), 7);
        Assert.Equal(-0.72542868, estimator.LogPdf([3.0]), 7);
        Assert.Equal(-1.29994164, estimator.LogPdf([9.9]), 7);
    }

    [Fact]
    public void A_single_observation_is_as_wide_as_its_distance_to_the_prior()
    {
        // Optuna: 0 | 4 5 | 10, the lowest takes its inner gap 1, clipped to 10 / min(100, 3). Ours was once
        // max(4, 6) = 6 here, which made the first model-based trials nearly uniform.
        var estimator = Estimator(new DoubleParameter("x", 0, 10), 4);
        Assert.Equal(10.0 / 3, estimator.Sigmas[0]![0], 12);
    }

    [Fact]
    public void Int_parameters_widen_the_bounds_by_half_a_step_and_score_by_probability_mass()
    {
        // n in 0..10: the range is [-0.5, 10.5], the prior at 5 with width 11, the clip 11 / 5 = 2.2.
        var estimator = Estimator(new IntParameter("n", 0, 10), 1, 2, 7);
        Assert.Equal([2.2, 3, 2.2, 11], estimator.Sigmas[0]!.Select(s => Math.Round(s, 12)));
        // Each value's mass over [v - 0.5, v + 0.5] (clipped to the range), from Optuna's log_pdf.
        Assert.Equal(-2.2160727, estimator.LogPdf([0]), 6);
        Assert.Equal(-2.19067997, estimator.LogPdf([3]), 6);
        Assert.Equal(-3.17759763, estimator.LogPdf([10]), 6);
    }

    [Fact]
    public void Log_parameters_are_modelled_in_log_space()
    {
        var estimator = Estimator(new DoubleParameter("lr", 1e-4, 1, Log: true), Math.Log(1e-3), Math.Log(1e-2));
        Assert.Equal(Math.Log(1e-2), estimator.Mus[0]![2], 12);
        Assert.Equal([Math.Log(10), Math.Log(10), Math.Log(1e4)], estimator.Sigmas[0]!.Select(s => Math.Round(s, 12)), new RoundedComparer());
        Assert.Equal(-0.54575371, estimator.LogPdf([Math.Log(1e-3)]), 7);
    }

    [Fact]
    public void Categorical_rows_spread_the_prior_weight_over_n_plus_one_not_over_the_categories()
    {
        // Observed a, c, c: every row starts at 1 / (3 + 1) = 0.25 on each category, observations add 1 to their
        // own: (1.25, .25, .25) / 1.75. The prior row is uniform.
        var estimator = Estimator(new CategoricalParameter("c", ["a", "b", "c"]), 0, 2, 2);
        var rows = estimator.Probabilities[0]!;
        Assert.Equal([5.0 / 7, 1.0 / 7, 1.0 / 7], rows[0].Select(p => Math.Round(p, 12)), new RoundedComparer());
        Assert.Equal([1.0 / 7, 1.0 / 7, 5.0 / 7], rows[2].Select(p => Math.Round(p, 12)), new RoundedComparer());
        Assert.Equal([1.0 / 3, 1.0 / 3, 1.0 / 3], rows[3].Select(p => Math.Round(p, 12)), new RoundedComparer());
        Assert.Equal(-1.09861229, estimator.LogPdf([0]), 7);
        Assert.Equal(-1.65822808, estimator.LogPdf([1]), 7);
        Assert.Equal(-0.74193734, estimator.LogPdf([2]), 7);
        // With many observations the rows sharpen: 90 observations leave 1/91 on each other category.
        var many = Estimator(new CategoricalParameter("c", ["a", "b", "c"]), Enumerable.Repeat(0.0, 90).ToArray());
        Assert.Equal((1.0 / 91) / (1 + 3.0 / 91), many.Probabilities[0]![0][1], 12);
    }

    [Fact]
    public void A_category_seldom_seen_in_the_bad_trials_scores_higher_than_the_one_seen_most()
    {
        // l: 3 good trials, all "a". g: 60 "a", 3 "b", 3 "c". Optuna's l/g prefers b and c, which the search
        // has hardly tried; spreading the prior over the categories in every row kept l/g near 1 for all three.
        var domain = ParzenDomain.For(new CategoricalParameter("c", ["a", "b", "c"]));
        var good = new ParzenEstimator([domain], Enumerable.Repeat(new[] { 0.0 }, 3).ToArray(), 1.0, false);
        double[][] badObservations = [.. Enumerable.Repeat(new[] { 0.0 }, 60), .. Enumerable.Repeat(new[] { 1.0 }, 3), .. Enumerable.Repeat(new[] { 2.0 }, 3)];
        var bad = new ParzenEstimator([domain], badObservations, 1.0, false);
        double Score(double c) => good.LogPdf([c]) - bad.LogPdf([c]);
        Assert.True(Score(1) > Score(0) + 1, $"b {Score(1)} vs a {Score(0)}");
        Assert.True(Score(2) > Score(0) + 1);
    }

    [Fact]
    public void Discretised_candidates_are_snapped_before_they_are_scored()
    {
        var estimator = Estimator(new IntParameter("n", 0, 10, Step: 2), 2, 4);
        var random = new Random(1);
        for (var i = 0; i < 200; i++)
        {
            var (point, values) = estimator.Sample(random);
            Assert.Equal(values[0].Number, point[0]);
            Assert.Contains(values[0].Number, new[] { 0.0, 2, 4, 6, 8, 10 });
        }
    }

    [Fact]
    public void Start_up_trials_are_uniform_on_the_widened_range_of_a_stepped_double()
    {
        // Optuna's random sampler draws a stepped double on [low - step/2, high + step/2]: the end values are
        // as likely as the others (not half as likely, as rounding a draw on [low, high] makes them).
        var space = new SearchSpace([new DoubleParameter("x", 0, 1, Step: 0.25)]);
        var suggester = new TpeSuggester(space, 5, TpeSettings.Read(new SettingsReader(new Dictionary<string, string> { ["startupTrials"] = "100000" })));
        var counts = Enumerable.Range(0, 5000).Select(n => suggester.Suggest(new SuggestionContext(n, [], []))["x"].Number)
            .GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(5, counts.Count);
        Assert.InRange(counts[0.0], 850, 1150);
        Assert.InRange(counts[1.0], 850, 1150);
    }

    /// <summary>x in [0, 1] and a categorical of three whose best value is the last one listed.</summary>
    private static double Objective(IReadOnlyDictionary<string, ParameterValue> p) =>
        (p["c"].Category switch { "a" => 0.3, "b" => 0.6, _ => 0.0 }) + 2 * Math.Pow(p["x"].Number - 0.5, 2);

    [Fact]
    public void A_categorical_whose_best_value_is_the_last_is_explored_and_found()
    {
        var space = new SearchSpace([new DoubleParameter("x", 0, 1), new CategoricalParameter("c", ["a", "b", "c"])]);
        var found = 0;
        for (var seed = 0; seed < 10; seed++)
        {
            var suggester = new TpeSuggester(space, seed, TpeSettings.Read(new SettingsReader(new Dictionary<string, string>())));
            var observations = new List<Observation>();
            for (var n = 0; n < 60; n++)
            {
                // The start-up trials try c only at the ends of x, where it looks worse than a: the model must come back to it.
                var p = new Dictionary<string, ParameterValue>(suggester.Suggest(new SuggestionContext(n, observations, [])));
                if (n < 10)
                {
                    p["c"] = ParameterValue.Of(n < 2 ? "c" : n % 2 == 0 ? "a" : "b");
                    p["x"] = ParameterValue.Of(n < 2 ? 0.02 + 0.96 * n : 0.1 * n);
                }
                observations.Add(new Observation(p, Objective(p)));
            }
            var late = observations.Skip(10).Select(o => o.Parameters["c"].Category).ToArray();
            var counts = new[] { "a", "b", "c" }.Select(c => late.Count(v => v == c)).ToArray();
            // Every category keeps being tried (b, the worst, too), and c wins. The rows that spread the prior
            // over the categories never tried b again here ([19, 0, 31] and [26, 0, 24]).
            Assert.True(counts.Min() >= 3, $"seed {seed}: trials per category after start-up [{string.Join(", ", counts)}]");
            if (late.Count(c => c == "c") > late.Length / 2) found++;
        }
        Assert.True(found >= 8, $"c took most later trials in {found} of 10 seeds");
    }

    [Fact]
    public void With_constant_liar_running_trials_push_the_next_suggestion_away()
    {
        var space = new SearchSpace([new DoubleParameter("x", 0, 1)]);
        Observation At(double x) => new(new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(x) }, Math.Pow(x - 0.3, 2));
        var observed = Enumerable.Range(0, 30).Select(i => At((i * 0.618034) % 1)).ToArray();
        var running = Enumerable.Range(0, 8).Select(i => (IReadOnlyDictionary<string, ParameterValue>)new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(0.3 + 0.002 * i) }).ToArray();
        TpeSuggester Create(bool liar) => new(space, 1, TpeSettings.Read(new SettingsReader(new Dictionary<string, string> { ["constantLiar"] = liar ? "true" : "false" })));
        double Distance(bool liar) => Enumerable.Range(30, 20).Average(n => Math.Abs(Create(liar).Suggest(new SuggestionContext(n, observed, running))["x"].Number - 0.307));
        var (honest, lying) = (Distance(false), Distance(true));
        Assert.True(lying > 2 * honest, $"mean distance from the running trials: {lying} with the liar, {honest} without");
        // Without the setting, running trials change nothing.
        Assert.Equal(Create(false).Suggest(new SuggestionContext(30, observed, running)), Create(false).Suggest(new SuggestionContext(30, observed, [])));
    }

    [Fact]
    public void Without_start_up_trials_the_first_suggestion_comes_from_the_priors()
    {
        var suggester = new TpeSuggester(SuggesterTests.Mixed, 1, TpeSettings.Read(new SettingsReader(new Dictionary<string, string> { ["startupTrials"] = "0" })));
        var first = suggester.Suggest(new SuggestionContext(0, [], []));
        Assert.InRange(first["x"].Number, -5, 10);
        Assert.Contains(first["optimizer"].Category, new[] { "sgd", "adam" });
    }

    [Fact]
    public void Constant_liar_is_a_setting()
    {
        var tpe = AlgorithmCatalog.Find("tpe")!;
        Assert.Empty(tpe.Validate(new Dictionary<string, string> { ["constantLiar"] = "true" }, SuggesterTests.Mixed));
        Assert.Equal("algorithm.settings.constantLiar", Assert.Single(tpe.Validate(new Dictionary<string, string> { ["constantLiar"] = "often" }, SuggesterTests.Mixed)).Path);
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}
