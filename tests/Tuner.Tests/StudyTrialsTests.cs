using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

/// <summary>The study's bookkeeping, without a silo: observations, attempts, learning curves, counts.</summary>
public sealed class StudyTrialsTests
{
    private static readonly ObjectiveSpec Accuracy = new("accuracy", Goal.Maximize, null, []);

    private static TrialRecord Trial(int number, TrialStatus status, double? accuracy = null, string attempt = "a1", params (long Step, double Value)[] curve) => new(
        $"t-{number}", number, status, new() { ["x"] = ParameterValue.Of(number) },
        accuracy is { } value ? new() { ["accuracy"] = value } : [],
        curve.Length == 0 ? [] : new() { ["accuracy"] = curve.Select(p => new MetricPoint(p.Step, p.Value)).ToArray() },
        [], DateTimeOffset.UnixEpoch, null, null, Attempt: attempt);

    private static StudyTrials Running(int count)
    {
        var trials = new StudyTrials(Accuracy);
        for (var n = 0; n < count; n++) trials.Started(Trial(trials.HandOut(), TrialStatus.Running));
        return trials;
    }

    [Fact]
    public void Observations_stay_in_trial_number_order_as_losses_whatever_order_trials_end_in()
    {
        var trials = Running(4);
        trials.Finished(Trial(2, TrialStatus.Succeeded, 0.9));
        trials.Finished(Trial(0, TrialStatus.Failed) with { Steps = [new("prepare", true, 0, null)] });
        trials.Finished(Trial(3, TrialStatus.Cancelled));
        trials.Finished(Trial(1, TrialStatus.EarlyStopped, 0.5) with { Steps = [new("prepare", true, 0, null), new("train", false, 1, null)] });
        trials.Finished(Trial(2, TrialStatus.Succeeded, 0.1)); // a second end report of an ended trial is not observed again
        Assert.Equal([0, 1, 2], trials.Observations.Select(o => (int)o.Parameters["x"].Number));
        Assert.Equal([null, -0.5, -0.9], trials.Observations.Select(o => o.Loss));
        // The trial stopped early is observed as such (at step 0: it reported no step), the others as run to their end.
        Assert.Equal([null, 0L, null], trials.Observations.Select(o => o.StoppedAt));
        Assert.Equal(new TrialCounts(0, 1, 1, 2, EarlyStopped: 1, CachedSteps: 2), trials.Counts());
    }

    [Fact]
    public void Loading_stored_records_observes_what_had_ended_and_counts_numbers_never_started_as_running()
    {
        var trials = new StudyTrials(Accuracy);
        trials.Load(Trial(0, TrialStatus.Succeeded, 0.7));
        trials.Load(null);
        trials.Load(Trial(2, TrialStatus.Running));
        Assert.Single(trials.Observations);
        Assert.Equal(new TrialCounts(2, 1, 0, 0), trials.Counts());
        Assert.Equal(["x"], trials.Pending.Single().Keys);
    }

    [Fact]
    public void Counts_and_unended_trials_follow_every_record_that_replaces_another()
    {
        // The counts are kept as records replace each other, not counted afresh: each replacement must take the record
        // it replaces out of them, cached steps and the unended set included.
        var trials = Running(4);
        Assert.True(trials.Progress(Trial(1, TrialStatus.Running, curve: [(1, 0.3)]) with { Steps = [new("prepare", true, 0, null)] }, out _));
        trials.Checked(Trial(2, TrialStatus.Running, attempt: "a2"));
        trials.Finished(Trial(1, TrialStatus.Succeeded, 0.4) with { Steps = [new("prepare", true, 0, null), new("train", false, 1, null)] });
        trials.Finished(Trial(3, TrialStatus.EarlyStopped, 0.2));
        Assert.Equal(new TrialCounts(2, 1, 0, 1, EarlyStopped: 1, CachedSteps: 1), trials.Counts());
        Assert.Equal([0, 2], trials.Unended.Select(t => t.Number));
        Assert.Equal("a2", trials.Unended.Last().Attempt);

        var number = trials.HandOut();
        Assert.Equal(new TrialCounts(3, 1, 0, 1, EarlyStopped: 1, CachedSteps: 1), trials.Counts());
        trials.Started(Trial(number, TrialStatus.Running));
        Assert.Equal([0, 2, 4], trials.Unended.Select(t => t.Number));

        trials.CloseUnended([null, Trial(2, TrialStatus.Failed)]);
        Assert.Equal(new TrialCounts(0, 1, 1, 3, EarlyStopped: 1, CachedSteps: 1), trials.Counts());
        Assert.Empty(trials.Unended);

        trials.Clear();
        Assert.Equal(new TrialCounts(0, 0, 0, 0), trials.Counts());
        trials.HandOut();
        Assert.Equal(new TrialCounts(1, 0, 0, 0), trials.Counts());
        Assert.Empty(trials.Unended);
    }

    [Fact]
    public void Only_the_current_attempt_s_reports_are_taken_and_none_after_the_end()
    {
        var trials = Running(1);
        Assert.False(trials.Progress(Trial(0, TrialStatus.Running, attempt: "an-earlier-one", curve: [(1, 0.1)]), out _));
        Assert.Empty(trials[0]!.Intermediate);
        Assert.True(trials.Progress(Trial(0, TrialStatus.Running, curve: [(1, 0.4)]), out var judged));
        Assert.Equal(long.MinValue, judged);
        Assert.True(trials.Progress(Trial(0, TrialStatus.Running, curve: [(1, 0.4), (2, 0.5)]), out judged));
        Assert.Equal(1, judged);

        // Run again after its silo was lost: the new attempt's reports count, the old one's no longer.
        trials.Checked(Trial(0, TrialStatus.Running, attempt: "a2"));
        Assert.False(trials.Progress(Trial(0, TrialStatus.Running, curve: [(3, 0.6)]), out _));
        Assert.True(trials.Progress(Trial(0, TrialStatus.Running, attempt: "a2", curve: [(1, 0.3)]), out _));

        trials.Finished(Trial(0, TrialStatus.Succeeded, 0.8, attempt: "a2"));
        Assert.False(trials.Progress(Trial(0, TrialStatus.Running, attempt: "a2", curve: [(2, 0.9)]), out _));
        Assert.Equal(TrialStatus.Succeeded, trials[0]!.Status);
    }

    [Fact]
    public void Steps_spent_are_the_highest_step_of_each_trial_summed_over_its_attempts()
    {
        var trials = Running(3);
        trials.Progress(Trial(0, TrialStatus.Running, curve: [(1, 0.1), (2, 0.2)]), out _);
        trials.Progress(Trial(0, TrialStatus.Running, curve: [(1, 0.1), (2, 0.2), (3, 0.3)]), out _);
        trials.Finished(Trial(1, TrialStatus.EarlyStopped, 0.1, curve: [(1, 0.1), (5, 0.1)]));
        Assert.Equal(8, trials.StepsSpent);
        Assert.Equal(5, trials.Observations.Single().StoppedAt);
        Assert.Equal([1L, 5], trials.Observations.Single().Curve!.Select(p => p.Step));
        // Trial 0 runs again from its first step: the three steps its lost attempt spent stay spent.
        trials.Checked(Trial(0, TrialStatus.Running, attempt: "a2"));
        trials.Progress(Trial(0, TrialStatus.Running, attempt: "a2", curve: [(1, 0.1)]), out _);
        Assert.Equal(8, trials.StepsSpent);
        trials.Progress(Trial(0, TrialStatus.Running, attempt: "a2", curve: [(1, 0.1), (2, 0.1), (3, 0.1), (4, 0.1)]), out _);
        Assert.Equal(9, trials.StepsSpent);
        // A resumed study counts the same from its stored records.
        var resumed = new StudyTrials(Accuracy);
        resumed.Load(trials[0]);
        resumed.Load(trials[1]);
        resumed.Load(null);
        Assert.Equal(9, resumed.StepsSpent);
    }

    [Fact]
    public void A_started_record_does_not_replace_a_curve_already_reported_unless_it_is_a_new_attempt()
    {
        var trials = new StudyTrials(Accuracy);
        var number = trials.HandOut();
        trials.Started(Trial(number, TrialStatus.Running));
        trials.Progress(Trial(number, TrialStatus.Running, curve: [(1, 0.4)]), out _);
        trials.Started(Trial(number, TrialStatus.Running));
        Assert.Single(trials[number]!.Intermediate["accuracy"]);
        trials.Started(Trial(number, TrialStatus.Running, attempt: "a2"));
        Assert.Equal("a2", trials[number]!.Attempt);
        Assert.Empty(trials[number]!.Intermediate);
    }

    [Fact]
    public void Early_stopping_is_asked_with_curves_as_losses_and_completed_means_succeeded()
    {
        var trials = Running(4);
        trials.Finished(Trial(0, TrialStatus.Succeeded, 0.9, curve: [(1, 0.8), (2, 0.9)]));
        trials.Finished(Trial(1, TrialStatus.EarlyStopped, 0.2, curve: [(1, 0.2)]));
        trials.Progress(Trial(2, TrialStatus.Running, curve: [(1, 0.5)]), out _);
        var report = Trial(3, TrialStatus.Running, curve: [(1, 0.1)]);
        Assert.True(trials.Progress(report, out var judged));
        var question = trials.Question(report, judged);
        Assert.True(question.Maximize);
        Assert.Equal([-0.1], question.Running.Points.Select(p => p.Loss));
        Assert.Equal([0], question.Completed.Select(c => c.Trial));
        Assert.Equal([0, 1, 2], question.Others.Select(c => c.Trial).Order());
    }

    [Fact]
    public void Closing_takes_what_cancelled_trials_answered_and_marks_the_rest_cancelled()
    {
        var trials = Running(3);
        trials.CloseUnended([Trial(0, TrialStatus.Succeeded, 0.6), null]);
        Assert.Equal([TrialStatus.Succeeded, TrialStatus.Cancelled, TrialStatus.Cancelled], trials.Select(t => t!.Status));
        Assert.Equal("the study ended before the trial stored its end", trials[1]!.Error);
        Assert.Equal(0, trials.Best()!.Number);
    }

    [Fact]
    public void The_best_trial_follows_the_goal_and_the_first_of_equals_stays()
    {
        var trials = Running(3);
        trials.Finished(Trial(0, TrialStatus.Succeeded, 0.6));
        trials.Finished(Trial(1, TrialStatus.Succeeded, 0.8));
        trials.Finished(Trial(2, TrialStatus.Succeeded, 0.8));
        Assert.Equal(1, trials.Best()!.Number);
        Assert.Equal(-0.8, trials.Loss(trials[2]!));
    }

    [Fact]
    public void The_best_trial_is_the_first_of_equals_whatever_order_they_end_in_and_follows_a_replaced_record()
    {
        var trials = Running(4);
        trials.Finished(Trial(2, TrialStatus.Succeeded, 0.8));
        Assert.Equal(2, trials.Best()!.Number);
        trials.Finished(Trial(1, TrialStatus.Succeeded, 0.8));
        Assert.Equal(1, trials.Best()!.Number);
        trials.Finished(Trial(3, TrialStatus.Succeeded, 0.7));
        // A check that finds the best trial ended otherwise after all (its end report was another attempt's) replaces it.
        trials.Checked(Trial(1, TrialStatus.Failed));
        Assert.Equal(2, trials.Best()!.Number);
    }
}
