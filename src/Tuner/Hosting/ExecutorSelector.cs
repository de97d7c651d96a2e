using Tuning.Trials.Execution;
using Tuning.Trials.Studies;

namespace Tuning.Tuner.Hosting;

/// <summary>Picks the executor a study's pipeline asks for, among those <see cref="ExecutorCatalog"/> says this build runs.</summary>
public sealed class ExecutorSelector(GpuSlots gpus)
{
    private readonly LocalExecutor _local = new(gpus);

    public IStepExecutor For(PipelineSpec pipeline) =>
        ExecutorCatalog.Unavailable(pipeline.Executor) is { } reason ? new UnavailableExecutor(reason) : _local;

    /// <summary>Ends whatever a killed run of this data folder left running, before any trial is lent a GPU again.</summary>
    public Task ReclaimAsync(string runsDirectory) => _local.ReclaimAsync(runsDirectory);

    /// <summary>Fails each step with the catalog's reason where an executor is not part of this build.</summary>
    private sealed class UnavailableExecutor(string reason) : IStepExecutor
    {
        public Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline) =>
            Task.FromResult(new StepResult(new MetricReport(), reason, TimeSpan.Zero));

        public Task ReclaimAsync(string folder) => Task.CompletedTask;
    }
}
