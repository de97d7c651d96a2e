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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (spec.Budget.TrialTimeout is { } limit) timeout.CancelAfter(limit);

        var metrics = new MetricReport();
        var summaries = new List<StepSummary>();
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var step in _order)
        {
            var stepDirectory = Path.Combine(trial.TrialDirectory, step.Name);
            var outputDirectory = Path.Combine(stepDirectory, "outputs");
            outputs[step.Name] = outputDirectory;
            Directory.CreateDirectory(stepDirectory);
            string Resolve(string name) => ResolvePlaceholder(name, trial, outputDirectory, outputs);
            var invocation = new StepInvocation(
                trial.TrialId, step.Name,
                step.Command.Select(a => Placeholders.Substitute(a, Resolve)).ToArray(),
                stepDirectory, outputDirectory, spec.StudyDirectory,
                step.Environment.ToDictionary(e => e.Key, e => Placeholders.Substitute(e.Value, Resolve)),
                step.Image, step.Resources);

            var result = await executor.RunAsync(invocation, timeout.Token).ConfigureAwait(false);
            metrics.Merge(result.Metrics);
            summaries.Add(new StepSummary(step.Name, false, result.Duration.TotalSeconds, result.Error));
            if (result.Succeeded) continue;

            if (cancellation.IsCancellationRequested)
                return new TrialResult(TrialOutcome.Cancelled, metrics, summaries, "cancelled");
            var error = timeout.IsCancellationRequested
                ? $"timed out after {spec.Budget.TrialTimeout} (budget.trialTimeout); step '{step.Name}' and its processes were killed"
                : result.Error;
            return new TrialResult(TrialOutcome.Failed, metrics, summaries, error);
        }

        var objective = spec.Objective.Metric;
        if (!metrics.Final.TryGetValue(objective, out var value))
            return new TrialResult(TrialOutcome.Failed, metrics, summaries,
                $"the trial reported no '{objective}' metric (print a line like '{objective}=0.5')");
        if (!double.IsFinite(value))
            return new TrialResult(TrialOutcome.Failed, metrics, summaries,
                $"the trial reported {objective}={value.ToString(CultureInfo.InvariantCulture)}, which is not a finite number");
        return new TrialResult(TrialOutcome.Succeeded, metrics, summaries, null);
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
