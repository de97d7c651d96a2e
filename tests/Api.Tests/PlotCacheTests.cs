using Tuning.Algorithms.Space;
using Tuning.Api.Service;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Tests;

/// <summary>When a kept plot is drawn again: whenever a trial ends, however it ends.</summary>
public class PlotCacheTests
{
    private static readonly StudySnapshot Running = new(Guid.NewGuid(), "s", "default", StudyStatus.Running, null, "objective",
        false, 10, 3, 1, 1, 1, null, DateTimeOffset.UtcNow, null);

    private static TrialRecord Trial(int number, TrialStatus status) => new(
        $"t-{number}", number, status, new() { ["x"] = ParameterValue.Of(0.5) }, new() { ["objective"] = 1 }, [], [], null, null, null);

    [Theory]
    [InlineData(TrialStatus.EarlyStopped)]
    [InlineData(TrialStatus.Cancelled)]
    [InlineData(TrialStatus.Succeeded)]
    [InlineData(TrialStatus.Failed)]
    public void A_running_trial_that_ends_changes_the_version_of_the_plots(TrialStatus ending)
    {
        TrialRecord[] before = [Trial(0, TrialStatus.Succeeded), Trial(1, TrialStatus.Failed), Trial(2, TrialStatus.Running)];
        TrialRecord[] after = [before[0], before[1], Trial(2, ending)];
        // The snapshot's counts as a stale cache key read them: an early stop or a cancellation leaves them as they were.
        var ended = ending switch
        {
            TrialStatus.Succeeded => Running with { Succeeded = 2, Running = 0 },
            TrialStatus.Failed => Running with { Failed = 2, Running = 0 },
            _ => Running with { Running = 0 },
        };
        Assert.NotEqual(PlotEndpoints.Version(Running, before), PlotEndpoints.Version(ended, after));
        Assert.Equal(PlotEndpoints.Version(ended, after), PlotEndpoints.Version(ended, after.ToArray()));
    }
}
