namespace Tuning.Tuner.Grains;

/// <summary>A study at a glance: what progress displays and clients poll.</summary>
/// <param name="CachedSteps">Steps of the study's trials taken from the cache instead of run.</param>
/// <param name="Pareto">The front and its hypervolume, for a study of several objectives or constraints; null otherwise.</param>
[GenerateSerializer, Immutable]
public sealed record StudySnapshot(
    Guid Id,
    string Name,
    string Namespace,
    StudyStatus Status,
    string? Reason,
    string Metric,
    bool Maximize,
    int MaxTrials,
    int Created,
    int Running,
    int Succeeded,
    int Failed,
    TrialRecord? Best,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    int EarlyStopped = 0,
    int CachedSteps = 0,
    ParetoFront? Pareto = null)
{
    /// <summary>Trials that ran to an end: succeeded, failed or stopped early.</summary>
    public int Done => Succeeded + Failed + EarlyStopped;

    /// <summary>What progress lines add after the counts: trials stopped early and steps taken from the cache, where any.</summary>
    public string Extras => ProgressExtras(EarlyStopped, CachedSteps);

    public static string ProgressExtras(int earlyStopped, int cachedSteps) =>
        (earlyStopped > 0 ? $", {earlyStopped} stopped early" : "") +
        (cachedSteps > 0 ? $", {cachedSteps} step{(cachedSteps == 1 ? "" : "s")} from cache" : "");
}

/// <summary>An entry of the study registry: enough to find a study again by name and spec, and to list a namespace's.</summary>
/// <param name="Deleting">Being deleted: no front end shows it, and its delete is finished on the next start if it was cut short.</param>
[GenerateSerializer, Immutable]
public sealed record StudyEntry(Guid Id, string Name, string Namespace, string SourceHash, DateTimeOffset CreatedAt, bool Deleting = false);
