using Tuning.Trials;
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
    private readonly GpuSlots _gpus;

    /// <param name="background">Where executors keep work that outlives a step (a Job's delete tried again).</param>
    /// <param name="options">The data folder, whose trial folders' ledger says whether a container ever started there.</param>
    public ExecutorSelector(GpuSlots gpus, BackgroundWork? background = null, Microsoft.Extensions.Options.IOptions<TunerOptions>? options = null)
    {
        _gpus = gpus;
        // The machine's GPUs and cores are lent from one account, whichever executor runs a step.
        var cores = CpuSlots.Machine();
        _local = new LocalExecutor(gpus, cores);
        _container = ContainerExecutor.Detect(gpus, cores, options is null ? null : Path.Combine(options.Value.RunsDirectory, ContainerExecutor.LedgerName));
        // The cluster takes care of its own GPUs and cores: Jobs ask it for them.
        _kubernetes = KubernetesExecutor.Configure(Environment.GetEnvironmentVariable, background).Executor;
    }

    /// <summary>The executor for a study's steps: the ones found at start-up, not looked for again for every trial.</summary>
    public IStepExecutor For(PipelineSpec pipeline) =>
        Find(pipeline) switch
        {
            ({ } executor, _) => executor,
            (_, var problem) => new UnavailableExecutor(problem!.Message),
        };

    /// <summary>
    /// Why this silo can never run the study's steps (an executor it lacks, a Kubernetes namespace or claim not the
    /// tuner's, more GPUs than it lends), or null: every front end asks before a study is created or resumed, so a
    /// study that could only fail every trial is refused at once, in the words a trial would have failed with.
    /// </summary>
    public StudyFileError? CannotRun(StudySpec spec)
    {
        if (Find(spec.Trial).Problem is { } problem) return problem;
        // The cluster lends a Job its GPUs; on this machine a step needs them from this silo.
        if (spec.Trial.Executor == ExecutorCatalog.Kubernetes) return null;
        return spec.Trial.Steps
            .Select((step, index) => _gpus.Refusal(step.Name, step.Resources.Gpu) is { } refused
                ? new StudyFileError($"trial.steps[{index}].resources.gpu", 0, 0, refused)
                : null)
            .FirstOrDefault(refusal => refusal is not null);
    }

    private (IStepExecutor? Executor, StudyFileError? Problem) Find(PipelineSpec pipeline)
    {
        switch (pipeline.Executor)
        {
            case ExecutorCatalog.Local:
                return (_local, null);
            case ExecutorCatalog.Container when _container is not null:
                return (_container, null);
            case ExecutorCatalog.Kubernetes when _kubernetes is not null:
                var (executor, problem) = _kubernetes.For(pipeline.Kubernetes);
                return (executor, problem is null ? null : new StudyFileError("trial.kubernetes", 0, 0, problem));
            default:
                return (null, new StudyFileError("trial.executor", 0, 0,
                    ExecutorCatalog.Unavailable(pipeline.Executor) ?? $"trial.executor '{pipeline.Executor}' is not available here"));
        }
    }

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
