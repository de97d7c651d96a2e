using Microsoft.Extensions.Options;
using Tuning.Trials.Caching;
using Tuning.Trials.Execution;

namespace Tuning.Tuner.Hosting;

/// <summary>
/// At silo start, before any study resumes, ends the step processes a killed run of this data folder left
/// behind: they would otherwise keep running (and keep their GPUs) beside the trials that run again. At silo
/// stop, ends the step processes still running, so an interrupted run leaves nothing behind and its trials, still
/// Running in the store, run again on resume.
/// </summary>
/// <remarks>
/// An embedded silo owns its data folder alone: whatever is marked with one of its run folders is its own (processes,
/// containers, Jobs), and so is every cache entry left half-built. The silos of a cluster share the data folder: each
/// ends at start only the local processes whose tuner is dead and at stop only its own; a lost trial's containers and
/// Jobs go when the trial runs again, and half-built cache entries are left to their builders.
/// </remarks>
public sealed class LeftoverSweep(ExecutorSelector executors, StepCache cache, IOptions<TunerOptions> options) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LeftoverSweep), ServiceLifecycleStage.ApplicationServices, SweepAtStart, SweepAtStop);

    private async Task SweepAtStart(CancellationToken cancellation)
    {
        // Trial folders and cache entries hold logs and outputs: only the tuner's user reads them.
        Trials.PrivateFiles.Folder(options.Value.RunsDirectory, tighten: true);
        Trials.PrivateFiles.Folder(cache.Directory, tighten: true);
        if (options.Value.Clustered)
        {
            await StepProcesses.EndAsync(options.Value.RunsDirectory, [], StepProcesses.TerminationGrace, owners: StepProcesses.Owners.Dead);
            return;
        }
        await executors.ReclaimAsync(options.Value.RunsDirectory);
        cache.RemoveUnfinishedBuilds();
    }

    private Task SweepAtStop(CancellationToken cancellation) => options.Value.Clustered
        ? StepProcesses.EndAsync(options.Value.RunsDirectory, [], StepProcesses.TerminationGrace, owners: StepProcesses.Owners.Self)
        : executors.ReclaimAsync(options.Value.RunsDirectory);
}
