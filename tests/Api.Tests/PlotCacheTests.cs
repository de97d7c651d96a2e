using Tuning.Api.Service;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Tests;

/// <summary>When a kept plot is drawn again: whenever a trial ends, however it ends, and when the study ends.</summary>
public class PlotCacheTests
{
    private static readonly StudySnapshot Running = new(Guid.NewGuid(), "s", "default", StudyStatus.Running, null, "objective",
        false, 10, 3, 1, 1, 1, null, DateTimeOffset.UtcNow, null);

    [Theory]
    [InlineData(TrialStatus.EarlyStopped)]
    [InlineData(TrialStatus.Cancelled)]
    [InlineData(TrialStatus.Succeeded)]
    [InlineData(TrialStatus.Failed)]
    public void A_running_trial_that_ends_changes_the_version_of_the_plots(TrialStatus ending)
    {
        // Trials 0 and 1 succeeded and failed, trial 2 runs, then ends: the study's snapshot before and after.
        var ended = ending switch
        {
            TrialStatus.Succeeded => Running with { Succeeded = 2, Running = 0 },
            TrialStatus.Failed => Running with { Failed = 2, Running = 0 },
            TrialStatus.EarlyStopped => Running with { EarlyStopped = 1, Running = 0 },
            _ => Running with { Running = 0 },
        };
        Assert.NotEqual(PlotEndpoints.Version(Running), PlotEndpoints.Version(ended));
        Assert.Equal(PlotEndpoints.Version(ended), PlotEndpoints.Version(ended with { }));
    }

    [Fact]
    public void The_study_ending_changes_the_version_of_the_plots_though_no_trial_did()
    {
        // Plots say the study's status (the dashboard's last drawing is of the ended study).
        Assert.NotEqual(PlotEndpoints.Version(Running with { Running = 0 }), PlotEndpoints.Version(Running with { Running = 0, Status = StudyStatus.Succeeded }));
    }
}
