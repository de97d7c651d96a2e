using Tuning.Tuner.Grains;
using Tuning.Tests.Shared;

namespace Tuning.Tuner.Tests;

/// <summary><c>budget.maxSteps</c> and <c>budget.maxTime</c> through real grains, a real store and real processes.</summary>
public sealed class ResourceBudgetTests() : InTemporaryFolder("tuning-budgets-")
{
    /// <summary>Trials that report x at each of <paramref name="epochs"/> epochs, <paramref name="pause"/> seconds apart.</summary>
    private string Study(string budget, int epochs, double pause) => TuningCluster.Study(
        $"[sh, -c, \"for e in $(seq {epochs}); do echo epoch=$e objective=${{params.x}}; sleep {pause}; done\"]", budget);

    [Fact]
    public async Task Max_steps_ends_the_study_once_its_trials_reported_that_many_steps_and_stops_those_running()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(Study("{maxTrials: 100, parallelTrials: 2, maxSteps: 25}", epochs: 10, pause: 0.1));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        Assert.StartsWith("stopped by the budget: ", end.Reason);
        Assert.EndsWith(" steps reported, budget.maxSteps is 25", end.Reason);
        var trials = await study.GetTrials();
        // Each trial's highest step, summed: what the study counted, at most a step past the budget per running trial.
        var spent = trials.Sum(t => t.Intermediate.TryGetValue("objective", out var curve) ? curve.Max(p => p.Step) : 0);
        Assert.Equal(spent, end.Spent.Steps);
        Assert.InRange(spent, 25, 27);
        Assert.Equal(25, end.MaxSteps);
        Assert.InRange(trials.Length, 3, 4);
        var stopped = trials.Where(t => t.Status == TrialStatus.Cancelled).ToArray();
        Assert.NotEmpty(stopped);
        Assert.All(stopped, t => Assert.Equal($"the study ended: {end.Reason}", t.Error));
        Assert.Equal(trials.Length - stopped.Length, end.Succeeded);
    }

    [Fact]
    public async Task Max_time_ends_the_study_at_its_deadline_and_stops_the_trials_running_then()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        // Trials of 0.3 s, one after another, under a budget of 2 s: the last trial started is still running at 2 s.
        var study = await cluster.StartStudyAsync(Study("{maxTrials: 1000, maxTime: 2s}", epochs: 3, pause: 0.1));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        Assert.StartsWith("stopped by the budget: ", end.Reason);
        Assert.EndsWith("since the study was created, budget.maxTime is 2 s", end.Reason);
        // Ended at the deadline, by the study's own timer: no trial's end nor the watch reminder had to come first.
        Assert.InRange((end.CompletedAt!.Value - end.CreatedAt).TotalSeconds, 2, 3);
        Assert.Equal(end.CompletedAt.Value - end.CreatedAt, end.Spent.Time);
        var trials = await study.GetTrials();
        Assert.InRange(end.Succeeded, 1, 7);
        Assert.All(trials.Where(t => t.Status != TrialStatus.Succeeded), t =>
        {
            Assert.Equal(TrialStatus.Cancelled, t.Status);
            Assert.StartsWith("the study ended: stopped by the budget", t.Error);
        });
    }
}
