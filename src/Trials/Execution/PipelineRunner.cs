using System.Globalization;
using Tuning.Algorithms.Space;
using Tuning.Trials.Studies;

namespace Tuning.Trials.Execution;

public enum TrialOutcome { Succeeded, Failed, Cancelled }

/// <summary>What one step of a trial did, as study.json shows it.</summary>
public sealed record StepSummary(string Name, bool Cached, double Seconds, string? Error);

/// <summary>The end of one trial's pipeline: how it ended, every metric it reported, and each step's share.</summary>
public sealed record TrialResult(TrialOutcome Outcome, MetricReport Metrics, IReadOnlyList<StepSummary> Steps, string? Error);

/// <summary>The trial a pipeline runs for: its identity, parameters and folder.</summary>
public sealed record TrialRun(string TrialId, int Number, IReadOnlyDictionary<string, ParameterValue> Parameters, string TrialDirectory);

/// <summary>
/// Runs a study's trial pipeline for one trial: steps in dependency order, placeholders substituted,
/// metrics merged, and the outcome judged (exit codes, the objective reported and finite, the trial timeout).
/// </summary>
public sealed class PipelineRunner(StudySpec spec, IStepExecutor executor)
{
    private readonly IReadOnlyList<StepSpec> _order = TopologicalOrder(spec.Trial.Steps);

    public async Task<TrialResult> RunAsync(TrialRun trial, CancellationToken cancellation)
    {
        await StartCleanAsync(trial.TrialDirectory).ConfigureAwait(false);
        if (cancellation.IsCancellationRequested) return new TrialResult(TrialOutcome.Cancelled, new MetricReport(), [], "cancelled");
        using var deadline = new TrialDeadline(spec.Budget.TrialTimeout, cancellation);

        var metrics = new MetricReport();
        var summaries = new List<StepSummary>();
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var step in _order)
        {
            // A trial stopped or timed out between steps starts no further step.
            if (deadline.Token.IsCancellationRequested) return Stopped(step.Name, null);
            var stepDirectory = Path.Combine(trial.TrialDirectory, step.Name);
            var outputDirectory = Path.Combine(stepDirectory, "outputs");
            outputs[step.Name] = outputDirectory;
            Directory.CreateDirectory(stepDirectory);
            string Resolve(string name) => ResolvePlaceholder(name, trial, outputDirectory, outputs);
            var invocation = new StepInvocation(
                trial.TrialId, step.Name,
                step.Command.Select((argument, i) => CommandArgument(argument, i == 0, Resolve)).ToArray(),
                stepDirectory, outputDirectory, spec.StudyDirectory,
                step.Environment.ToDictionary(e => e.Key, e => Placeholders.Substitute(e.Value, Resolve)),
                step.Image, step.Resources);

            var result = await executor.RunAsync(invocation, deadline).ConfigureAwait(false);
            metrics.Merge(result.Metrics);
            summaries.Add(new StepSummary(step.Name, false, result.Duration.TotalSeconds, result.Error));
            if (result.Succeeded) continue;
            return Stopped(step.Name, result.Error);
        }

        // How a trial ends when a step did not succeed: cancelled, timed out, or the step's own failure.
        TrialResult Stopped(string step, string? error) =>
            cancellation.IsCancellationRequested ? new TrialResult(TrialOutcome.Cancelled, metrics, summaries, "cancelled")
            : deadline.Token.IsCancellationRequested ? new TrialResult(TrialOutcome.Failed, metrics, summaries,
                $"timed out after {spec.Budget.TrialTimeout} (budget.trialTimeout); step '{step}' and its processes were killed")
            : new TrialResult(TrialOutcome.Failed, metrics, summaries, error);

        var objective = spec.Objective.Metric;
        if (!metrics.Final.TryGetValue(objective, out var value))
            return new TrialResult(TrialOutcome.Failed, metrics, summaries,
                $"the trial reported no '{objective}' metric (print a line like '{objective}=0.5')");
        if (!double.IsFinite(value))
            return new TrialResult(TrialOutcome.Failed, metrics, summaries,
                $"the trial reported {objective}={value.ToString(CultureInfo.InvariantCulture)}, which is not a finite number");
        return new TrialResult(TrialOutcome.Succeeded, metrics, summaries, null);
    }

    /// <summary>
    /// Every attempt of a trial starts clean: what an earlier attempt (of a killed tuner, say) left running is
    /// ended first, so it cannot write into the new attempt or hold its GPU, and its folder (logs, metrics
    /// file, outputs) is removed, so no metric of the old attempt is read as one of the new.
    /// </summary>
    private async Task StartCleanAsync(string trialDirectory)
    {
        if (!Directory.Exists(trialDirectory)) return;
        await executor.ReclaimAsync(trialDirectory).ConfigureAwait(false);
        // A process just ended may still be closing files in the folder: a few tries before giving up.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(trialDirectory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                await Task.Delay(100 * attempt).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// One argument of a step's command. Only text written literally in the study file may name a file relative
    /// to the study folder (and is then passed as an absolute path); text substituted from a placeholder is passed
    /// as it is, so a parameter value such as <c>adam</c> never turns into a path because a folder of that name exists.
    /// </summary>
    private string CommandArgument(string argument, bool isProgram, Func<string, string> resolve)
    {
        if (argument.Contains("${", StringComparison.Ordinal)) return Placeholders.Substitute(argument, resolve);
        if (argument.Length == 0 || Path.IsPathRooted(argument)) return argument;
        // The program: a relative path (./train.sh, bin/run) is the study folder's; a bare name is looked up on PATH.
        if (isProgram) return argument.Contains('/') ? Path.GetFullPath(Path.Combine(spec.StudyDirectory, argument)) : argument;
        if (argument.StartsWith('-') || argument.Contains('=')) return argument;
        var candidate = Path.Combine(spec.StudyDirectory, argument);
        return File.Exists(candidate) || Directory.Exists(candidate) ? Path.GetFullPath(candidate) : argument;
    }

    private string ResolvePlaceholder(string name, TrialRun trial, string outputs, IReadOnlyDictionary<string, string> stepOutputs)
    {
        if (Placeholders.ParameterReference(name) is { } parameter) return trial.Parameters[parameter].ToString();
        if (Placeholders.StepOutputsReference(name) is { } step) return stepOutputs[step];
        return name switch
        {
            "outputs" => outputs,
            "trial.id" => trial.TrialId,
            "trial.dir" => trial.TrialDirectory,
            "study.dir" => spec.StudyDirectory,
            _ => throw new InvalidOperationException($"placeholder '{name}' passed validation but has no value"),
        };
    }

    /// <summary>Steps ordered so that each comes after everything it depends on; ties keep the file's order.</summary>
    private static IReadOnlyList<StepSpec> TopologicalOrder(IReadOnlyList<StepSpec> steps)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<StepSpec>(steps.Count);
        while (order.Count < steps.Count)
        {
            var ready = steps.First(s => !done.Contains(s.Name) && s.DependsOn.All(done.Contains));
            done.Add(ready.Name);
            order.Add(ready);
        }
        return order;
    }
}
