using Tuning.Trials.Execution;
using Tuning.Trials.Studies;

namespace Tuning.Tuner.Hosting;

/// <summary>Picks the executor a study's pipeline asks for, among those <see cref="ExecutorCatalog"/> says this build runs.</summary>
public sealed class ExecutorSelector
{
    private readonly LocalExecutor _local;
    private readonly ContainerExecutor? _container;

    public ExecutorSelector(GpuSlots gpus)
    {
        // The machine's GPUs and cores are lent from one account, whichever executor runs a step.
        var cores = CpuSlots.Machine();
        _local = new LocalExecutor(gpus, cores);
        _container = ContainerExecutor.Detect(gpus, cores);
    }

    /// <summary>The executor for a study's steps: the ones found at start-up, not looked for again for every trial.</summary>
    public IStepExecutor For(PipelineSpec pipeline) => pipeline.Executor switch
    {
        ExecutorCatalog.Local => _local,
        ExecutorCatalog.Container when _container is not null => _container,
        _ => new UnavailableExecutor(ExecutorCatalog.Unavailable(pipeline.Executor) ?? $"trial.executor '{pipeline.Executor}' is not available here"),
    };

    /// <summary>Ends whatever a killed run of this data folder left running (processes, containers), before any trial is lent a GPU again.</summary>
    public Task ReclaimAsync(string runsDirectory) => (_container ?? _local).ReclaimAsync(runsDirectory);

    /// <summary>Fails each step with the catalog's reason where an executor is not part of this build.</summary>
    private sealed class UnavailableExecutor(string reason) : IStepExecutor
    {
        public bool SeesHostFolders => true;

        public Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline) =>
            Task.FromResult(new StepResult(new MetricReport(), reason, TimeSpan.Zero));

        public Task ReclaimAsync(string folder) => Task.CompletedTask;
    }
}
