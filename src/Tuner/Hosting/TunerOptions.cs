using System.Collections.Concurrent;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Hosting;

/// <summary>Where a silo keeps its store and its trial folders.</summary>
public sealed class TunerOptions
{
    /// <summary>The data folder: <c>tuner.db</c> and <c>runs/STUDY/TRIAL/STEP</c> below it.</summary>
    public string DataDirectory { get; set; } = ".tuner";

    public string RunsDirectory => Path.Combine(Path.GetFullPath(DataDirectory), "runs");

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDirectory), "tuner.db");
}

/// <summary>
/// Parsed study specs by source, so the many trial grains of a study parse its file once per silo, not once each.
/// </summary>
public sealed class StudySpecCache
{
    private readonly ConcurrentDictionary<StudySource, StudySpec> _specs = new();

    public StudySpec Get(StudySource source) =>
        _specs.GetOrAdd(source, s => StudyFile.Parse(s.Text, s.Directory));
}

/// <summary>Picks the executor a study's pipeline asks for.</summary>
public sealed class ExecutorSelector(GpuSlots gpus)
{
    private readonly LocalExecutor _local = new(gpus);

    public IStepExecutor For(PipelineSpec pipeline) => pipeline.Executor switch
    {
        "local" => _local,
        _ => new UnavailableExecutor(pipeline.Executor),
    };

    /// <summary>Fails each step with a clear reason where an executor is not part of this build.</summary>
    private sealed class UnavailableExecutor(string name) : IStepExecutor
    {
        public Task<StepResult> RunAsync(StepInvocation step, CancellationToken cancellation) =>
            Task.FromResult(new StepResult(new MetricReport(),
                $"the '{name}' executor is not available in this build; use executor: local", TimeSpan.Zero));
    }
}
