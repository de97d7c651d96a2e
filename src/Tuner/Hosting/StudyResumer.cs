using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tuning.Trials;
using Tuning.Tuner.Studies;

namespace Tuning.Tuner.Hosting;

/// <summary>
/// Where <see cref="TunerOptions.ResumeStudiesOnStart"/> is set, starts again every study that was running when
/// the last process ended, once the silo is active: studies go on whether or not a client is attached.
/// </summary>
public sealed class StudyResumer(StudyService studies, BackgroundWork background, IOptions<TunerOptions> options, ILogger<StudyResumer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StudyResumer), ServiceLifecycleStage.Active + 1, OnActive);

    private Task OnActive(CancellationToken cancellation)
    {
        // In the background: resuming many studies must not hold up the silo's start.
        if (options.Value.ResumeStudiesOnStart) _ = background.Run("resuming the running studies", ResumeAsync);
        return Task.CompletedTask;
    }

    private async Task ResumeAsync()
    {
        try
        {
            var resumed = await studies.ResumeRunningAsync();
            if (resumed > 0) logger.LogInformation("resumed {Count} running studies", resumed);
        }
        catch (Exception e)
        {
            logger.LogError(e, "could not resume the running studies");
        }
    }
}
