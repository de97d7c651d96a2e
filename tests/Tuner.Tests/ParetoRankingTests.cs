using Tuning.Algorithms.Space;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

/// <summary>Which trials are best with several objectives and constraints, without a silo.</summary>
public sealed class ParetoRankingTests
{
    private static StudySpec Spec(string objectives, string constraints = "") => StudyFile.Parse($"""
        name: front
        {objectives}
        {constraints}
        budget: {"{"}maxTrials: 10{"}"}
        parameters: [{"{"}name: x, type: double, min: 0, max: 10{"}"}]
        trial: {"{"}steps: [{"{"}name: s, command: ["true"]{"}"}]{"}"}
        """, "/studies");

    private static readonly StudySpec AccuracyAndLatency = Spec(
        "objectives: [{metric: accuracy, goal: maximize, reference: 0}, {metric: latency, goal: minimize}]",
        "constraints: [{metric: memory, max: 512}]");

    private static TrialRecord Trial(int number, double accuracy, double latency, double? memory = 100, TrialStatus status = TrialStatus.Succeeded)
    {
        var metrics = new Dictionary<string, double> { ["accuracy"] = accuracy, ["latency"] = latency };
        if (memory is { } m) metrics["memory"] = m;
        return new($"t-{number}", number, status, new() { ["x"] = ParameterValue.Of(number) }, metrics, [], [], null, null, null);
    }

    [Fact]
    public void The_suggester_is_given_the_study_files_references_as_losses()
    {
        var spec = Spec("objectives: [{metric: accuracy, goal: maximize, reference: 0.5}, {metric: latency, goal: minimize}, {metric: memory, goal: minimize, reference: 512}]");
        Assert.Equal([-0.5, null, 512], ParetoRanking.GivenReferences(spec)!);
        Assert.Null(ParetoRanking.GivenReferences(Spec("objective: {metric: accuracy, goal: maximize}")));
    }

    [Fact]
    public void The_front_is_the_feasible_non_dominated_succeeded_trials_best_first_by_the_first_objective()
    {
        var front = ParetoRanking.Front(AccuracyAndLatency, [
            Trial(0, 0.9, 30),
            Trial(1, 0.8, 10),
            Trial(2, 0.7, 20),                                  // dominated by trial 1
            Trial(3, 0.95, 5, memory: 600),                     // would dominate every trial, but breaks memory <= 512
            Trial(4, 0.99, 1, status: TrialStatus.Failed),      // did not succeed
            null,                                               // handed out, not started
            Trial(6, 0.85, 25, memory: 512),                    // on the bound: feasible
            Trial(7, 0.99, 1, memory: null),                    // no memory reported: infeasible
        ])!;
        Assert.Equal([0, 6, 1], front.Trials.Select(t => t.Number));
        Assert.Equal([3, 7], front.Infeasible);
        // Accuracy's reference is given (0); latency's is derived from the feasible trials: worst 30 plus a tenth of 30 - 10.
        Assert.Equal([0, 32], front.Reference);
        Assert.Equal([false, true], front.ReferenceDerived);
        // Staircase in losses (-accuracy, latency) under (0, 32): 0.9·2 + 0.85·5 + 0.8·15.
        Assert.Equal(18.05, front.Hypervolume, 12);
    }

    [Fact]
    public void A_derived_reference_of_zero_for_a_maximised_objective_is_plain_zero()
    {
        // Every trial at accuracy 1: the reference's loss is -1 plus 1, and turned back into an accuracy it was -0.
        var spec = Spec("objectives: [{metric: accuracy, goal: maximize}, {metric: latency, goal: minimize}]");
        var front = ParetoRanking.Front(spec, [Trial(0, 1, 5), Trial(1, 1, 7)])!;
        Assert.Equal([0, 7.2], front.Reference.Select(r => Math.Round(r, 9)));
        Assert.False(double.IsNegative(front.Reference[0]));
    }

    [Fact]
    public void A_constraint_breaks_by_its_distance_from_the_bound_and_a_missing_metric_breaks_it_outright()
    {
        Assert.Equal(88, ParetoRanking.Violation(AccuracyAndLatency, new Dictionary<string, double> { ["memory"] = 600 }));
        Assert.Equal(0, ParetoRanking.Violation(AccuracyAndLatency, new Dictionary<string, double> { ["memory"] = 512 }));
        Assert.Equal(double.PositiveInfinity, ParetoRanking.Violation(AccuracyAndLatency, new Dictionary<string, double>()));
        Assert.False(ParetoRanking.Feasible(AccuracyAndLatency, Trial(0, 1, 1, memory: 513)));
    }

    [Fact]
    public void With_no_feasible_trial_the_front_is_empty_and_says_which_broke_a_constraint()
    {
        var front = ParetoRanking.Front(AccuracyAndLatency, [Trial(0, 0.9, 30, memory: 900)])!;
        Assert.Empty(front.Trials);
        Assert.Equal([0], front.Infeasible);
        Assert.Equal(0, front.Hypervolume);
    }

    [Fact]
    public void One_constrained_objective_has_its_best_feasible_trial_as_front_and_one_unconstrained_has_none()
    {
        var constrained = Spec("objective: {metric: accuracy, goal: maximize}", "constraints: [{metric: memory, max: 512}]");
        var front = ParetoRanking.Front(constrained, [Trial(0, 0.9, 1), Trial(1, 0.95, 1, memory: 600), Trial(2, 0.8, 1)])!;
        Assert.Equal([0], front.Trials.Select(t => t.Number));
        Assert.Null(ParetoRanking.Front(Spec("objective: {metric: accuracy, goal: maximize}"), [Trial(0, 0.9, 1)]));
    }

    [Fact]
    public void A_ranked_studys_observations_carry_every_objective_as_a_loss_and_the_violation()
    {
        var trials = new StudyTrials(AccuracyAndLatency.Objective, AccuracyAndLatency);
        trials.Load(Trial(0, 0.9, 30, memory: 600));
        trials.Load(Trial(1, 0.8, 10) with { Status = TrialStatus.EarlyStopped, Metrics = new() { ["accuracy"] = 0.8 } });
        trials.Load(Trial(2, 0.9, 1, status: TrialStatus.Failed));
        Assert.Equal([-0.9, 30], trials.Observations[0].Losses!);
        Assert.Equal(88, trials.Observations[0].Violation);
        // Stopped before it reported latency: the first objective alone, which suggesters of several objectives leave out.
        Assert.Null(trials.Observations[1].Losses);
        Assert.Equal(-0.8, trials.Observations[1].Loss);
        Assert.Null(trials.Observations[2].Loss);
        Assert.Equal([trials.Observations[0]], Algorithms.Suggesters.Observation.WithEveryObjective(trials.Observations));
    }

    [Fact]
    public void A_running_trial_that_breaks_a_monotone_constraint_is_stopped_through_the_ranked_question()
    {
        var spec = Spec("objectives: [{metric: accuracy, goal: maximize}, {metric: latency, goal: minimize}]",
            "constraints: [{metric: memory, max: 512, monotone: true}]");
        var trials = new StudyTrials(spec.Objective, spec);
        var running = Trial(trials.HandOut(), 0.5, 10, status: TrialStatus.Running) with
        {
            Intermediate = new()
            {
                ["accuracy"] = [new(1, 0.5)], ["latency"] = [new(1, 10)], ["memory"] = [new(1, 300), new(2, 700)],
            },
        };
        trials.Started(running);
        Assert.True(trials.Progress(running, out var judgedUpTo));
        var rule = Algorithms.EarlyStopping.EarlyStoppingCatalog.Create("median", new Dictionary<string, string>()).Rule!;
        Assert.Equal("stopped early at step 2: memory=700 breaks its bound (max 512), and the constraint is monotone",
            Algorithms.EarlyStopping.ParetoStopping.Judge(rule, trials.RankedQuestion(running, judgedUpTo)));
    }

    [Fact]
    public void Under_constraints_the_best_trial_and_the_recommendation_are_feasible_however_good_an_infeasible_one_is()
    {
        var spec = Spec("objective: {metric: accuracy, goal: maximize}", "constraints: [{metric: memory, max: 512}]");
        var trials = new StudyTrials(spec.Objective, spec);
        var records = Enumerable.Range(0, 8).Select(n => Trial(n, 0.5 + n / 20.0, 1, memory: 400)).ToList();
        // The most accurate trials break the memory bound, or never reported memory.
        records.Add(Trial(8, 0.99, 1, memory: 600));
        records.Add(Trial(9, 0.98, 1, memory: null));
        foreach (var record in records) trials.Load(record);
        Assert.Equal(7, trials.Best()?.Number);
        Assert.Equal(7, Recommender.Of(spec.Space, spec.Objective, records, t => ParetoRanking.Feasible(spec, t))?.Trial.Number);
        // Without the constraint, one of the two most accurate trials is the answer.
        Assert.Contains(Recommender.Of(spec.Space, spec.Objective, records)!.Trial.Number, new[] { 8, 9 });
    }
}
