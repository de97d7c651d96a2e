using Tuning.Trials.Execution;
using Tuning.Trials.Execution.Kubernetes;
using Tuning.Trials.Studies;

namespace Tuning.Tuner.Hosting;

/// <summary>Picks the executor a study's pipeline asks for, among those <see cref="ExecutorCatalog"/> says this build runs.</summary>
public sealed class ExecutorSelector
{
    private readonly LocalExecutor _local;
    private readonly ContainerExecutor? _container;
    private readonly KubernetesExecutor? _kubernetes;

    public ExecutorSelector(GpuSlots gpus)
    {
        // The machine's GPUs and cores are lent from one account, whichever executor runs a step.
        var cores = CpuSlots.Machine();
        _local = new LocalExecutor(gpus, cores);
        _container = ContainerExecutor.Detect(gpus, cores);
        // The cluster takes care of its own GPUs and cores: Jobs ask it for them.
        _kubernetes = KubernetesExecutor.Configure(Environment.GetEnvironmentVariable).Executor;
    }

    /// <summary>The executor for a study's steps: the ones found at start-up, not looked for again for every trial.</summary>
    public IStepExecutor For(PipelineSpec pipeline) => pipeline.Executor switch
    {
        ExecutorCatalog.Local => _local,
        ExecutorCatalog.Container when _container is not null => _container,
        ExecutorCatalog.Kubernetes when _kubernetes is not null => _kubernetes.For(pipeline.Kubernetes) switch
        {
            ({ } executor, _) => executor,
            (_, var problem) => new UnavailableExecutor(problem!),
        },
        _ => new UnavailableExecutor(ExecutorCatalog.Unavailable(pipeline.Executor) ?? $"trial.executor '{pipeline.Executor}' is not available here"),
    };

    /// <summary>
    /// Ends whatever a killed run of this data folder left running (processes, containers, Jobs), before any trial is
    /// lent a GPU again.
    /// </summary>
    public async Task ReclaimAsync(string runsDirectory)
    {
        await (_container ?? _local).ReclaimAsync(runsDirectory).ConfigureAwait(false);
        if (_kubernetes is not null) await _kubernetes.ReclaimAsync(runsDirectory).ConfigureAwait(false);
    }

    /// <summary>Fails each step with the catalog's reason where an executor is not part of this build.</summary>
    private sealed class UnavailableExecutor(string reason) : IStepExecutor
    {
        public bool SeesHostFolders => true;

        public Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline) =>
            Task.FromResult(new StepResult(new MetricReport(), reason, TimeSpan.Zero));

        public Task ReclaimAsync(string folder) => Task.CompletedTask;
    }
}
