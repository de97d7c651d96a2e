using Tuning.Trials.Studies;

namespace Tuning.Tuner.Grains;

/// <summary>How a study ended, and why.</summary>
public sealed record StudyEnd(StudyStatus Status, string Reason);

/// <summary>A study's trials by state; <see cref="Other"/> counts the cancelled and early-stopped.</summary>
/// <param name="EarlyStopped">Of <see cref="Other"/>, those stopped early.</param>
/// <param name="CachedSteps">The steps of every trial taken from the cache.</param>
public readonly record struct TrialCounts(int Running, int Succeeded, int Failed, int Other, int EarlyStopped = 0, int CachedSteps = 0)
{
    public int Finished => Succeeded + Failed + Other;
}

/// <summary>
/// The resources a study has spent: <paramref name="Steps"/>, the sum over its trials of the highest step each reported
/// (epochs, say), and <paramref name="Time"/>, the wall-clock time since it was created.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct ResourcesSpent([property: Id(0)] long Steps, [property: Id(1)] TimeSpan Time);

/// <summary>The rules that end a study, in one place and in order (as Katib orders them).</summary>
public static class StudyCompletion
{
    /// <summary>
    /// Whether the study is over: (1) the target is reached, (2) more trials failed than the budget allows,
    /// (3) maxTrials trials are done, or maxSteps steps or maxTime were spent (the trials still running are stopped),
    /// (4) the search space is exhausted and nothing runs; after (3) or (4) the study failed if no trial succeeded.
    /// Null: it goes on.
    /// </summary>
    public static StudyEnd? Decide(StudySpec spec, TrialCounts counts, double? bestValue, bool exhausted, ResourcesSpent resources = default)
    {
        if (bestValue is { } best && spec.Objective.Reached(best))
            return new StudyEnd(StudyStatus.Succeeded, $"target {spec.Objective.Target} reached ({spec.Objective.Metric}={best})");
        if (counts.Failed > spec.Budget.MaxFailedTrials)
            return new StudyEnd(StudyStatus.Failed, $"{counts.Failed} trials failed, more than budget.maxFailedTrials ({spec.Budget.MaxFailedTrials})");
        var trialsDone = counts.Finished >= spec.Budget.MaxTrials;
        // Said only where maxTrials is not what ended the study: a resource budget ends it with trials running.
        var resourceSpent = trialsDone ? null : ResourceBudgetSpent(spec.Budget, resources);
        if (!trialsDone && resourceSpent is null && !(exhausted && counts.Running == 0)) return null;
        // A spent budget with nothing to show is a failure, however few trials failed.
        if (counts.Succeeded == 0)
            return new StudyEnd(StudyStatus.Failed, "no trial succeeded: " +
                (counts.Finished == 0 ? "none had ended" : $"{counts.Failed} of {counts.Finished} failed") + (resourceSpent is null ? "" : $" ({resourceSpent})"));
        return new StudyEnd(StudyStatus.Succeeded,
            trialsDone ? $"all {spec.Budget.MaxTrials} trials done" : resourceSpent ?? $"search space exhausted after {counts.Finished} trials");
    }

    /// <summary>Which resource budget is spent, said as the study's end and its running trials' reason; null while none is.</summary>
    public static string? ResourceBudgetSpent(BudgetSpec budget, ResourcesSpent resources) =>
        budget.MaxSteps is { } steps && resources.Steps >= steps
            ? $"stopped by the budget: {resources.Steps} steps reported, budget.maxSteps is {steps}"
            : budget.MaxTime is { } time && resources.Time >= time
                ? $"stopped by the budget: {Seconds(resources.Time)} s since the study was created, budget.maxTime is {Seconds(time)} s"
                : null;

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
}
