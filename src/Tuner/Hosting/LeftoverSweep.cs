using Microsoft.Extensions.Options;
using Tuning.Trials.Caching;

namespace Tuning.Tuner.Hosting;

/// <summary>
/// At silo start, before any study resumes, ends the step processes a killed run of this data folder left
/// behind: they would otherwise keep running (and keep their GPUs) beside the trials that run again. At silo
/// stop, ends the step processes still running. One silo owns a data folder at a time, so whatever is marked
/// with one of its run folders is its own, and so is every cache entry left half-built.
/// </summary>
public sealed class LeftoverSweep(ExecutorSelector executors, StepCache cache, IOptions<TunerOptions> options) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LeftoverSweep), ServiceLifecycleStage.ApplicationServices, SweepAtStart, Sweep);

    private async Task SweepAtStart(CancellationToken cancellation)
    {
        // Trial folders and cache entries hold logs and outputs: only the tuner's user reads them.
        Trials.PrivateFiles.Folder(options.Value.RunsDirectory, tighten: true);
        Trials.PrivateFiles.Folder(cache.Directory, tighten: true);
        await Sweep(cancellation);
        cache.RemoveUnfinishedBuilds();
    }

    /// <summary>At start: what a killed run left. At stop (the trials' grains are gone by then): what this run still runs,
    /// so an interrupted run leaves nothing behind and its trials, still Running in the store, run again on resume.</summary>
    private Task Sweep(CancellationToken cancellation) => executors.ReclaimAsync(options.Value.RunsDirectory);
}
