using Tuning.Trials.Studies;

namespace Tuning.Trials.Execution;

/// <summary>One step of one trial, with every placeholder already substituted.</summary>
/// <param name="StepDirectory">The step's own folder: its working folder, logs and metrics file.</param>
/// <param name="OutputDirectory">What <c>${outputs}</c> named: the folder later steps read.</param>
/// <param name="Reported">Told each metric line as the step reports it (values of that line only), while it runs.</param>
/// <param name="TrialDirectory">The trial's folder on this machine.</param>
/// <param name="Inputs">The output folders, on this machine, of the steps this step depends on, by step name.</param>
/// <param name="NamedMetrics">The metrics the study names, kept however many others the step reports (<see cref="MetricReport.MaxNames"/>).</param>
public sealed record StepInvocation(
    string TrialId,
    string StepName,
    IReadOnlyList<string> Command,
    string StepDirectory,
    string OutputDirectory,
    string StudyDirectory,
    IReadOnlyDictionary<string, string> Environment,
    string? Image,
    ResourceSpec Resources,
    Action<MetricReport>? Reported = null,
    string? TrialDirectory = null,
    IReadOnlyDictionary<string, string>? Inputs = null,
    IReadOnlyList<string>? NamedMetrics = null);

/// <param name="Error">Why the step failed (exit code, cannot start, killed); null when it succeeded.</param>
/// <param name="Infrastructure">
/// The failure was the machinery's (a node lost, a pod evicted, the cluster unreachable), not the step's own: the
/// trial may be run again, up to <c>budget.maxRetries</c>.
/// </param>
public sealed record StepResult(MetricReport Metrics, string? Error, TimeSpan Duration, bool Infrastructure = false)
{
    public bool Succeeded => Error is null;
}

/// <summary>Runs one step somewhere (a local process, a container, a Kubernetes Job) and collects its metrics.</summary>
public interface IStepExecutor
{
    /// <summary>
    /// Whether the step sees this machine's folders (a local process) or the <see cref="MountPoints"/> (a container,
    /// a pod): placeholders and study-relative arguments are resolved to the paths it sees.
    /// </summary>
    bool SeesHostFolders { get; }

    /// <summary>
    /// Runs the step to its end. The deadline's token cancelled (stopped, or out of time) kills it, everything it
    /// started, and returns a failed result; time spent waiting for the machine (a GPU) is paused on the deadline.
    /// </summary>
    Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline);

    /// <summary>
    /// Ends whatever earlier runs left behind under <paramref name="folder"/> (a trial's folder before it runs
    /// again, or every run folder after a crash): processes, and later containers and jobs.
    /// </summary>
    Task ReclaimAsync(string folder);
}
