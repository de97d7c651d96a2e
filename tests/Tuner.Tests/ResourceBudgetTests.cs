using Tuning.Tuner.Grains;
using Tuning.Tests.Shared;

namespace Tuning.Tuner.Tests;

/// <summary><c>budget.maxSteps</c> and <c>budget.maxTime</c> through real grains, a real store and real processes.</summary>
public sealed class ResourceBudgetTests() : InTemporaryFolder("tuning-budgets-")
{
    /// <summary>
    /// Runs a study of trials that report x at each of <paramref name="epochs"/> epochs, <paramref name="pause"/> seconds
    /// apart, under <paramref name="budget"/>, which is to end it, stopped by the budget: every trial that did not
    /// succeed cancelled saying so.
    /// </summary>
    private async Task<(StudySnapshot End, TrialRecord[] Trials)> RunToTheBudgetAsync(string budget, int epochs, double pause, StudyStatus ending)
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study(
            $"[sh, -c, \"for e in $(seq {epochs}); do echo epoch=$e objective=${{params.x}}; sleep {pause}; done\"]", budget));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(ending, end.Status);
        Assert.Contains("stopped by the budget: ", end.Reason);
        var trials = await study.GetTrials();
        Assert.All(trials.Where(t => t.Status != TrialStatus.Succeeded), t =>
        {
            Assert.Equal(TrialStatus.Cancelled, t.Status);
            Assert.Equal($"the study ended: {end.Reason}", t.Error);
        });
        return (end, trials);
    }

    [Fact]
    public async Task Max_steps_ends_the_study_once_its_trials_reported_that_many_steps_and_stops_those_running()
    {
        // Epochs a second apart: a stop that takes several hundred milliseconds on a loaded machine still lands before a
        // running trial's next epoch (fresh-clone CI runs counted 32 steps with epochs 0.1 s apart, and 28 with 0.5 s).
        var (end, trials) = await RunToTheBudgetAsync("{maxTrials: 100, parallelTrials: 2, maxSteps: 25}", epochs: 10, pause: 1, StudyStatus.Succeeded);
        Assert.StartsWith("stopped by the budget: ", end.Reason);
        Assert.EndsWith(" steps reported, budget.maxSteps is 25", end.Reason);
        // Each trial's highest step, summed: what the study counted, at most a step past the budget per running trial.
        var spent = trials.Sum(t => t.Intermediate.TryGetValue("objective", out var curve) ? curve.Max(p => p.Step) : 0);
        Assert.Equal(spent, end.Spent.Steps);
        Assert.InRange(spent, 25, 27);
        Assert.Equal(25, end.MaxSteps);
        Assert.InRange(trials.Length, 3, 4);
        Assert.Contains(trials, t => t.Status == TrialStatus.Cancelled);
    }

    [Fact]
    public async Task Max_time_ends_the_study_at_its_deadline_and_stops_the_trials_running_then()
    {
        // Two trials of 20 s under a budget of 2 s: no trial ends before the deadline, and the watch reminder comes every
        // 30 s, so only the study's own timer can end it at 2 s. Nothing succeeded by then: the study failed, saying why.
        var (end, trials) = await RunToTheBudgetAsync("{maxTrials: 1000, parallelTrials: 2, maxTime: 2s}", epochs: 20, pause: 1, StudyStatus.Failed);
        Assert.Matches(@"^no trial succeeded: none had ended \(stopped by the budget: 2(\.\d)? s since the study was created, budget.maxTime is 2 s\)$", end.Reason);
        Assert.InRange((end.CompletedAt!.Value - end.CreatedAt).TotalSeconds, 2, 3);
        Assert.Equal(end.CompletedAt.Value - end.CreatedAt, end.Spent.Time);
        Assert.Equal(2, trials.Length);
        Assert.All(trials, t => Assert.Equal(TrialStatus.Cancelled, t.Status));
    }
}
