using Tuning.Algorithms.Space;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

/// <summary>The study's recommendedTrial: which trial, and that the model is not fitted again for every poll.</summary>
public class RecommenderTests
{
    private static readonly SearchSpace Line = new([new DoubleParameter("x", 0, 1)]);

    private static ObjectiveSpec Objective(Goal goal) => new("objective", goal, null, []);

    private static TrialRecord Trial(int number, double x, double value, TrialStatus status = TrialStatus.Succeeded) => new(
        $"t-{number}", number, status, new() { ["x"] = ParameterValue.Of(x) }, new() { ["objective"] = value }, [], [], null, null, null);

    [Fact]
    public void A_noiseless_maximised_metric_recommends_the_best_trial_and_never_one_that_did_not_succeed()
    {
        var trials = Enumerable.Range(0, 12).Select(i => Trial(i, i / 11.0, -Math.Pow(i / 11.0 - 0.3, 2))).ToList();
        // Reported far above the rest, but it failed: its value is no result.
        trials.Add(Trial(12, 0.9, 5, TrialStatus.Failed));
        Assert.Equal(3, Recommender.Of(Line, Objective(Goal.Maximize), trials)?.Trial.Number);
        Assert.Null(Recommender.Of(Line, Objective(Goal.Maximize), [Trial(0, 0.5, 1, TrialStatus.Failed)]));
    }

    [Fact]
    public async Task The_model_is_fitted_again_only_when_the_number_of_succeeded_trials_changes()
    {
        var clock = new SteppedClock();
        var recommender = new Recommender(Line, Objective(Goal.Minimize), clock);
        var trials = Enumerable.Range(0, 6).Select(i => Trial(i, i / 5.0, Math.Abs(i / 5.0 - 0.4))).ToList();
        Assert.Equal(2, (await recommender.RecommendAsync(trials, ended: false))?.Trial.Number);
        // Another poll while nothing else succeeded (a trial started, one failed) reuses the answer.
        trials.Add(Trial(6, 0.1, double.NaN, TrialStatus.Running));
        trials.Add(Trial(7, 0.1, double.NaN, TrialStatus.Failed));
        Assert.Same(await recommender.RecommendAsync(trials, ended: false), await recommender.RecommendAsync(trials, ended: false));
        Assert.Equal(2, (await recommender.RecommendAsync(trials, ended: false))?.Trial.Number);
        // Another trial succeeded: fitted again, to results that (to show it) put the minimum elsewhere.
        clock.Advance(TimeSpan.FromSeconds(10));
        var moved = Enumerable.Range(0, 7).Select(i => Trial(i, i / 6.0, Math.Pow(i / 6.0 - 5 / 6.0, 2))).ToList();
        Assert.Equal(5, (await recommender.RecommendAsync(moved, ended: false))?.Trial.Number);
    }

    /// <summary>A clock that moves only when told: every fit takes one second of it, and polls come when the test says.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _ticks, TimeSpan.TicksPerSecond / 2);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public async Task A_running_study_rests_nine_times_a_fit_s_time_between_fits_and_an_ended_one_counts_every_trial()
    {
        var clock = new SteppedClock();
        var recommender = new Recommender(Line, Objective(Goal.Minimize), clock);
        List<TrialRecord> Trials(int count, double minimum) =>
            Enumerable.Range(0, count).Select(i => Trial(i, i / (double)count, Math.Pow(i / (double)count - minimum, 2))).ToList();
        var first = await recommender.RecommendAsync(Trials(40, 0.25), ended: false);
        Assert.Equal(10, first?.Trial.Number);
        // The fit took half a second of the clock: a poll 3.5 s after it keeps its answer, though another trial moved the minimum.
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Same(first, await recommender.RecommendAsync(Trials(41, 0.75), ended: false));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(31, (await recommender.RecommendAsync(Trials(41, 0.75), ended: false))?.Trial.Number);
        // Ended, the last trial counts at once.
        Assert.Equal(32, (await recommender.RecommendAsync(Trials(43, 0.75), ended: true))?.Trial.Number);
    }
}
