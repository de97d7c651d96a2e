using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

public class StudyCompletionTests
{
    private static readonly StudySpec Spec = StudyFile.Parse(
        TuningCluster.Study("[\"true\"]", "{maxTrials: 10, maxFailedTrials: 2}", objective: "{metric: objective, goal: minimize, target: 0.5}"),
        "/tmp");

    [Fact]
    public void Target_comes_first_even_when_too_many_failed_and_the_budget_is_used() =>
        Assert.Equal(StudyStatus.Succeeded, StudyCompletion.Decide(Spec, new TrialCounts(Running: 0, Succeeded: 5, Failed: 5, Other: 0), 0.4, exhausted: true)!.Status);

    [Fact]
    public void Failures_come_before_the_budget() =>
        Assert.Equal(StudyStatus.Failed, StudyCompletion.Decide(Spec, new TrialCounts(Running: 0, Succeeded: 7, Failed: 3, Other: 0), 0.9, exhausted: false)!.Status);

    [Fact]
    public void As_many_failures_as_allowed_do_not_fail_the_study() =>
        Assert.Null(StudyCompletion.Decide(Spec, new TrialCounts(Running: 1, Succeeded: 3, Failed: 2, Other: 0), 0.9, exhausted: false));

    [Fact]
    public void The_budget_ends_the_study_when_every_trial_is_done()
    {
        Assert.Contains("all 10", StudyCompletion.Decide(Spec, new TrialCounts(Running: 0, Succeeded: 10, Failed: 0, Other: 0), 0.9, exhausted: false)!.Reason);
        Assert.Null(StudyCompletion.Decide(Spec, new TrialCounts(Running: 1, Succeeded: 9, Failed: 0, Other: 0), 0.9, exhausted: false));
    }

    [Fact]
    public void A_resource_budget_ends_the_study_while_trials_run_the_first_one_spent_saying_which()
    {
        var spec = Spec with { Budget = Spec.Budget with { MaxSteps = 100, MaxTime = TimeSpan.FromMinutes(2) } };
        var counts = new TrialCounts(Running: 2, Succeeded: 3, Failed: 0, Other: 0);
        Assert.Null(StudyCompletion.Decide(spec, counts, 0.9, exhausted: false, new ResourcesSpent(99, TimeSpan.FromSeconds(119))));
        var steps = StudyCompletion.Decide(spec, counts, 0.9, exhausted: false, new ResourcesSpent(104, TimeSpan.FromSeconds(10)))!;
        Assert.Equal(new StudyEnd(StudyStatus.Succeeded, "stopped by the budget: 104 steps reported, budget.maxSteps is 100"), steps);
        var time = StudyCompletion.Decide(spec, counts, 0.9, exhausted: false, new ResourcesSpent(5, TimeSpan.FromSeconds(120.04)))!;
        Assert.Equal("stopped by the budget: 120 s since the study was created, budget.maxTime is 120 s", time.Reason);
        // Nothing succeeded by then: the study failed, saying why it ended.
        var empty = StudyCompletion.Decide(spec, new TrialCounts(Running: 2, Succeeded: 0, Failed: 1, Other: 0), null, exhausted: false, new ResourcesSpent(100, TimeSpan.Zero))!;
        Assert.Equal(StudyStatus.Failed, empty.Status);
        Assert.Contains("no trial succeeded: 1 of 1 failed (stopped by the budget: 100 steps", empty.Reason);
    }

    [Fact]
    public void An_exhausted_space_ends_the_study_once_nothing_runs()
    {
        Assert.Null(StudyCompletion.Decide(Spec, new TrialCounts(Running: 1, Succeeded: 3, Failed: 0, Other: 0), 0.9, exhausted: true));
        Assert.Contains("exhausted", StudyCompletion.Decide(Spec, new TrialCounts(Running: 0, Succeeded: 4, Failed: 0, Other: 0), 0.9, exhausted: true)!.Reason);
    }

    [Fact]
    public void A_spent_budget_or_an_exhausted_space_without_a_success_fails_the_study()
    {
        var spent = StudyCompletion.Decide(Spec, new TrialCounts(Running: 0, Succeeded: 0, Failed: 2, Other: 8), null, exhausted: false)!;
        Assert.Equal(StudyStatus.Failed, spent.Status);
        Assert.Contains("no trial succeeded", spent.Reason);
        var exhausted = StudyCompletion.Decide(Spec, new TrialCounts(Running: 0, Succeeded: 0, Failed: 2, Other: 0), null, exhausted: true)!;
        Assert.Equal(StudyStatus.Failed, exhausted.Status);
    }
}
