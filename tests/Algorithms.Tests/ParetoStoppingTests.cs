using Tuning.Algorithms.EarlyStopping;

namespace Tuning.Algorithms.Tests;

public sealed class ParetoStoppingTests
{
    /// <summary>A trial whose two objectives stay at (a, b) at steps 1 and 2, and whose memory is as given at those steps.</summary>
    private static ObjectiveCurves Trial(int number, double a, double b, double memory1 = 100, double memory2 = 100) => new(number,
        [new LearningCurve(number, [new(1, a), new(2, a)]), new LearningCurve(number, [new(1, b), new(2, b)])],
        [new LearningCurve(number, [new(1, memory1), new(2, memory2)])]);

    /// <summary>At step 2, (1,4), (2,2) and (4,1) form the first front and (3,3) the second.</summary>
    private static readonly ObjectiveCurves[] Completed = [Trial(0, 1, 4), Trial(1, 2, 2), Trial(2, 4, 1), Trial(3, 3, 3)];

    private static readonly MonotoneBound[] Memory = [new("memory", 512, null)];

    private static string? Judge(EarlyStoppingRule rule, ObjectiveCurves running, long judgedUpTo = long.MinValue) =>
        ParetoStopping.Judge(rule, new ParetoQuestion(running, judgedUpTo, Completed, Completed, Memory));

    [Fact]
    public void Scores_are_the_non_dominated_rank_plus_a_crowding_term()
    {
        var scores = ParetoStopping.Scores([.. Completed, Trial(4, 5, 5)], [2]);
        // Front 0's extremes score 0; (2,2) lies between them with crowding 3/3 + 3/3 = 2, so 0 + 1/3; (3,3) is alone in
        // front 1 and (5,5) in front 2.
        Assert.Equal([0, 1 / 3.0, 0, 1, 2], Enumerable.Range(0, 5).Select(t => scores[t].Single().Loss));
    }

    [Fact]
    public void Median_stops_a_trial_dominated_by_the_completed_ones_and_keeps_one_that_dominates_them()
    {
        // The completed trials' median score is (0 + 1/3)/2; the dominated trial scores 2, the dominating one 0.
        var rule = new MedianStopping(minTrials: 3, startStep: 0);
        Assert.Contains("non-dominated rank", Judge(rule, Trial(4, 5, 5)));
        Assert.Null(Judge(rule, Trial(4, 0.5, 0.5)));
    }

    [Fact]
    public void Asha_promotes_by_standing_among_the_trials_at_the_rung()
    {
        var rule = new SuccessiveHalving(minStep: 1, reductionFactor: 2);
        Assert.NotNull(Judge(rule, Trial(4, 5, 5)));
        Assert.Null(Judge(rule, Trial(4, 0.5, 0.5)));
    }

    [Fact]
    public void A_trial_that_breaks_a_monotone_constraint_stops_at_that_step_however_good_its_objectives()
    {
        var rule = new MedianStopping(minTrials: 3, startStep: 0);
        Assert.Equal("stopped early at step 2: memory=600 breaks its bound (max 512), and the constraint is monotone",
            Judge(rule, Trial(4, 0.5, 0.5, memory2: 600)));
        // Judged already at step 2: its objectives alone decide now.
        Assert.Null(Judge(rule, Trial(4, 0.5, 0.5, memory2: 600), judgedUpTo: 2));
        Assert.Null(Judge(rule, Trial(4, 0.5, 0.5, memory2: 512)));
    }
}
