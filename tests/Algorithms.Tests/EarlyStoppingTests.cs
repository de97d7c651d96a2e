using Tuning.Algorithms.EarlyStopping;

namespace Tuning.Algorithms.Tests;

public sealed class EarlyStoppingTests
{
    /// <summary>A curve with a loss at each step from 1.</summary>
    private static LearningCurve Curve(int trial, params double[] losses) =>
        new(trial, losses.Select((loss, i) => new CurvePoint(i + 1, loss)).ToArray());

    private static string? Judge(EarlyStoppingRule rule, LearningCurve running, IReadOnlyList<LearningCurve> completed, long judgedUpTo = long.MinValue) =>
        rule.Judge(new EarlyStoppingQuestion(running, judgedUpTo, completed, completed));

    [Fact]
    public void Median_is_a_true_median_not_a_mean()
    {
        // Completed trials' values at step 2: 1, 2 and 30. Median 2, mean 11: a running trial at 5 is worse than
        // the median (stopped) though better than the mean (Katib's rule would keep it). Step 1 was judged before.
        var completed = new[] { Curve(0, 3, 1), Curve(1, 4, 2), Curve(2, 40, 30) };
        var rule = new MedianStopping(minTrials: 3, startStep: 0);
        Assert.Contains("worse than the median 2 of 3 completed trials", Judge(rule, Curve(3, 6, 5), completed, judgedUpTo: 1));
        Assert.Null(Judge(rule, Curve(4, 6, 1.5), completed, judgedUpTo: 1));
        Assert.Equal(2.5, MedianStopping.Median([4, 1, 3, 2]));
    }

    [Fact]
    public void Median_waits_for_min_trials_and_start_step_and_uses_the_best_value_so_far()
    {
        var completed = new[] { Curve(0, 1, 1, 1), Curve(1, 2, 2, 2) };
        Assert.Null(Judge(new MedianStopping(3, 0), Curve(2, 9, 9), completed));
        Assert.NotNull(Judge(new MedianStopping(2, 0), Curve(2, 9, 9), completed));
        Assert.Null(Judge(new MedianStopping(2, startStep: 3), Curve(2, 9, 9), completed));
        // Best so far 0.5 at step 1, though its value at step 2 is 9: it is not stopped.
        Assert.Null(Judge(new MedianStopping(2, 0), Curve(2, 0.5, 9), completed));
    }

    [Fact]
    public void Median_judges_every_step_of_a_batch_not_only_its_last()
    {
        // Completed trials at 1 then -20 and 2 then -40: medians 1.5 at step 1 and -30 at step 2. The running trial's
        // 5 at step 1 is worse; its -100 at step 2 is better. Reported together, it is stopped at step 1.
        var completed = new[] { Curve(0, 1, -20), Curve(1, 2, -40) };
        var rule = new MedianStopping(minTrials: 2, startStep: 0);
        Assert.Contains("at step 1:", Judge(rule, Curve(2, 5, -100), completed));
        // Step 1 was judged already (and passed, say, against other trials then): only step 2 is judged now.
        Assert.Null(Judge(rule, Curve(2, 5, -100), completed, judgedUpTo: 1));
        Assert.Null(Judge(new MedianStopping(2, startStep: 2), Curve(2, 5, -100), completed));
    }

    [Fact]
    public void Median_never_stops_the_best_trial()
    {
        var random = new Random(3);
        for (var round = 0; round < 200; round++)
        {
            var completed = Enumerable.Range(0, 6).Select(t => Curve(t, Enumerable.Range(0, 5).Select(_ => random.NextDouble()).ToArray())).ToArray();
            var best = completed.Min(c => c.BestUpTo(5))!.Value;
            // Its earlier steps, at 1, were judged when it reported them: the step that makes it the best is judged now.
            Assert.Null(Judge(new MedianStopping(1, 0), Curve(9, 1, 1, 1, 1, best), completed, judgedUpTo: 4));
        }
    }

    [Fact]
    public void A_diverged_trial_stops_under_every_rule_and_reasons_show_values_as_reported()
    {
        var completed = new[] { Curve(0, -0.9, -0.95), Curve(1, -0.8, -0.85) };
        foreach (EarlyStoppingRule rule in new EarlyStoppingRule[] { new MedianStopping(5, 0), new SuccessiveHalving(100, 3) })
            Assert.Contains("reported NaN at step 2", Judge(rule, Curve(2, -0.5, double.NaN), completed));
        // A maximised accuracy is a negated loss inside; the reason speaks of accuracy as reported.
        var reason = new MedianStopping(2, 0).Judge(new EarlyStoppingQuestion(Curve(3, -0.5, -0.6), 1, completed, completed, Maximize: true));
        Assert.Contains("best value so far 0.6 is worse than the median 0.9", reason);
    }

    [Fact]
    public void Asha_rungs_grow_by_the_reduction_factor()
    {
        Assert.Equal([2L, 6, 18, 54], new SuccessiveHalving(2, 3).Rungs().Take(4));
    }

    [Fact]
    public void Asha_keeps_the_best_third_at_each_rung_and_judges_a_rung_once()
    {
        var rule = new SuccessiveHalving(minStep: 1, reductionFactor: 3);
        // The first trial at a rung always goes on.
        Assert.Null(Judge(rule, Curve(0, 5), []));
        var others = new[] { Curve(0, 1, 1, 1), Curve(1, 2, 2, 2), Curve(2, 3, 3, 3), Curve(3, 4, 4, 4), Curve(4, 5, 5, 5) };
        // Six at rung 1 (itself included): the best 2 go on. 1.5 is second best: on; 2.5 is third: stopped.
        Assert.Null(Judge(rule, Curve(9, 1.5), others));
        Assert.Contains("not among the best 2 of 6", Judge(rule, Curve(9, 2.5), others));
        // Rung 3: promoted at rung 1 earlier (judged up to step 2), only rung 3 is judged now.
        Assert.Contains("rung step 3", Judge(rule, Curve(9, 9, 9, 2.5), others, judgedUpTo: 2));
        Assert.Null(Judge(rule, Curve(9, 9, 9, 0.5), others, judgedUpTo: 2));
        // Between rungs nothing is judged.
        Assert.Null(Judge(rule, Curve(9, 9, 9), others, judgedUpTo: 1));
    }

    [Fact]
    public void Hyperband_brackets_start_their_rungs_a_factor_later_each_and_end_below_max_step()
    {
        // As Optuna's HyperbandPruner(1, 52, 3): four brackets, the last halving once, at 27.
        Assert.Equal([[1L, 3, 9, 27], [3L, 9, 27], [9L, 27], [27L]], new Hyperband(1, 52, 3).BracketRungs.Select(r => r.ToArray()));
        // Up to 9 by 3: the last bracket has no rung, its trials all run to the end (Hyperband's plain random search).
        Assert.Equal([[1L, 3], [3L], []], new Hyperband(1, 9, 3).BracketRungs.Select(r => r.ToArray()));
    }

    [Fact]
    public void Hyperband_assigns_trials_to_brackets_by_number_alone_in_hyperbands_proportions()
    {
        // Shares of 1..52 by 3: 27, 12, 6 and 4 of 49 (Optuna's trial allocation budgets).
        var rule = new Hyperband(1, 52, 3);
        var counts = new int[4];
        for (var trial = 0; trial < 49_000; trial++) counts[rule.Bracket(trial)]++;
        Assert.All(counts.Zip([27, 12, 6, 4]), c => Assert.InRange(c.First, c.Second * 950, c.Second * 1050));
        // Another instance (a resumed study, another machine) draws the same brackets; the first trials are spread.
        var again = new Hyperband(1, 52, 3);
        Assert.All(Enumerable.Range(0, 1000), t => Assert.Equal(rule.Bracket(t), again.Bracket(t)));
        Assert.True(Enumerable.Range(0, 12).Select(rule.Bracket).Distinct().Count() >= 3);
    }

    [Fact]
    public void Hyperband_compares_a_trial_with_its_bracket_only()
    {
        var rule = new Hyperband(1, 9, 3);
        var numbers = Enumerable.Range(0, 200).ToArray();
        var first = numbers.Where(t => rule.Bracket(t) == 0).Take(5).ToArray();
        var last = numbers.Where(t => rule.Bracket(t) == 2).Take(4).ToArray();
        // Bracket 0's trials reached 9 at step 1; the last bracket's, 1. A bracket-0 trial at 5 is the best of its
        // bracket and goes on, though among everyone's values (1, 1, 1, 5, 9, 9, 9) it is not in the best third; at 10 it
        // is the worst of its bracket and stops.
        var peers = first.Take(3).Select(t => Curve(t, 9, 9)).Concat(last.Take(3).Select(t => Curve(t, 1, 1))).ToArray();
        Assert.Null(Judge(rule, Curve(first[3], 5), peers));
        Assert.NotNull(Judge(new SuccessiveHalving(1, 3), Curve(first[3], 5), peers));
        Assert.Contains("stopped early by hyperband (bracket 0) at rung step 1: value 10 is not among the best 1 of 4",
            Judge(rule, Curve(first[4], 10), peers));
        // The last bracket has no rung: its trials run to maxStep however they compare.
        Assert.Null(Judge(rule, Curve(last[3], 50, 50, 50, 50, 50, 50, 50, 50), peers));
    }

    [Fact]
    public void Settings_are_checked_with_their_paths()
    {
        var (rule, errors) = EarlyStoppingCatalog.Create("asha", new Dictionary<string, string> { ["reductionFactor"] = "1", ["minTrials"] = "3" });
        Assert.Null(rule);
        Assert.Contains(errors, e => e.Path == "earlyStopping.settings.reductionFactor" && e.Message.Contains("from 2 to 100"));
        Assert.Contains(errors, e => e.Path == "earlyStopping.settings.minTrials" && e.Message.Contains("allowed: minStep, reductionFactor"));
        Assert.IsType<MedianStopping>(EarlyStoppingCatalog.Create("median", new Dictionary<string, string> { ["minTrials"] = "2" }).Rule);
        Assert.Equal("earlyStopping.settings.maxStep: required: the step trials end at (their last epoch, say)",
            EarlyStoppingCatalog.Create("hyperband", new Dictionary<string, string>()).Errors.Select(e => $"{e.Path}: {e.Message}").Single());
        Assert.Equal("earlyStopping.settings.maxStep: must be more than minStep (4), got 4",
            EarlyStoppingCatalog.Create("hyperband", new Dictionary<string, string> { ["minStep"] = "4", ["maxStep"] = "4" }).Errors.Select(e => $"{e.Path}: {e.Message}").Single());
        Assert.IsType<Hyperband>(EarlyStoppingCatalog.Create("hyperband", new Dictionary<string, string> { ["maxStep"] = "52", ["reductionFactor"] = "3" }).Rule);
    }
}
