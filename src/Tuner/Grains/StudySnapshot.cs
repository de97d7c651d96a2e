namespace Tuning.Tuner.Grains;

/// <summary>A study at a glance: what progress displays and clients poll.</summary>
/// <param name="CachedSteps">Steps of the study's trials taken from the cache instead of run.</param>
/// <param name="Spent">The resources the study has spent, beside <paramref name="MaxSteps"/> and <paramref name="MaxTime"/>, its budgets of them.</param>
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
    ResourcesSpent Spent = default,
    long? MaxSteps = null,
    TimeSpan? MaxTime = null,
    ParetoFront? Pareto = null)
{
    /// <summary>Trials that ran to an end: succeeded, failed or stopped early.</summary>
    public int Done => Succeeded + Failed + EarlyStopped;

    /// <summary>
    /// What progress lines add after the counts: trials stopped early and steps taken from the cache, where any, and
    /// the resources spent of each resource budget the study has.
    /// </summary>
    public string Extras => ProgressExtras(EarlyStopped, CachedSteps, Spent, MaxSteps, MaxTime);

    public static string ProgressExtras(int earlyStopped, int cachedSteps, ResourcesSpent spent = default, long? maxSteps = null, TimeSpan? maxTime = null) =>
        (earlyStopped > 0 ? $", {earlyStopped} stopped early" : "") +
        (cachedSteps > 0 ? $", {cachedSteps} step{(cachedSteps == 1 ? "" : "s")} from cache" : "") +
        (maxSteps is { } steps ? $", {spent.Steps}/{steps} steps" : "") +
        (maxTime is { } time ? FormattableString.Invariant($", {spent.Time.TotalSeconds:0}/{time.TotalSeconds:0} s of budget.maxTime") : "");
}

/// <summary>An entry of the study registry: enough to find a study again by name and spec, and to list a namespace's.</summary>
/// <param name="Deleting">Being deleted: no front end shows it, and its delete is finished on the next start if it was cut short.</param>
[GenerateSerializer, Immutable]
public sealed record StudyEntry(Guid Id, string Name, string Namespace, string SourceHash, DateTimeOffset CreatedAt, bool Deleting = false);
