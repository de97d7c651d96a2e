using Tuning.Trials.Studies;

namespace Tuning.Tuner.Grains;

/// <summary>How a study ended, and why.</summary>
public sealed record StudyEnd(StudyStatus Status, string Reason);

/// <summary>A study's trials by state; <see cref="Other"/> counts the cancelled and early-stopped.</summary>
public readonly record struct TrialCounts(int Running, int Succeeded, int Failed, int Other)
{
    public int Finished => Succeeded + Failed + Other;
}

/// <summary>The rules that end a study, in one place and in order (as Katib orders them).</summary>
public static class StudyCompletion
{
    /// <summary>
    /// Whether the study is over: (1) the target is reached, (2) more trials failed than the budget allows,
    /// (3) maxTrials trials are done, (4) the search space is exhausted and nothing runs; after (3) or (4) the study
    /// failed if no trial succeeded. Null: it goes on.
    /// </summary>
    public static StudyEnd? Decide(StudySpec spec, TrialCounts counts, double? bestValue, bool exhausted)
    {
        if (bestValue is { } best && spec.Objective.Reached(best))
            return new StudyEnd(StudyStatus.Succeeded, $"target {spec.Objective.Target} reached ({spec.Objective.Metric}={best})");
        if (counts.Failed > spec.Budget.MaxFailedTrials)
            return new StudyEnd(StudyStatus.Failed, $"{counts.Failed} trials failed, more than budget.maxFailedTrials ({spec.Budget.MaxFailedTrials})");
        var spent = counts.Finished >= spec.Budget.MaxTrials;
        if (!spent && !(exhausted && counts.Running == 0)) return null;
        // A spent budget with nothing to show is a failure, however few trials failed.
        if (counts.Succeeded == 0)
            return new StudyEnd(StudyStatus.Failed, $"no trial succeeded: {counts.Failed} of {counts.Finished} failed");
        return spent
            ? new StudyEnd(StudyStatus.Succeeded, $"all {spec.Budget.MaxTrials} trials done")
            : new StudyEnd(StudyStatus.Succeeded, $"search space exhausted after {counts.Finished} trials");
    }
}
