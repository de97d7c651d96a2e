using Microsoft.Extensions.Options;

namespace Tuning.Tuner.Hosting;

/// <summary>
/// At silo start, before any study resumes, ends the step processes a killed run of this data folder left
/// behind: they would otherwise keep running (and keep their GPUs) beside the trials that run again.
/// One silo owns a data folder at a time, so whatever is still marked with one of its run folders is a leftover.
/// </summary>
public sealed class LeftoverSweep(ExecutorSelector executors, IOptions<TunerOptions> options) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LeftoverSweep), ServiceLifecycleStage.ApplicationServices,
            _ => executors.ReclaimAsync(options.Value.RunsDirectory));
}
