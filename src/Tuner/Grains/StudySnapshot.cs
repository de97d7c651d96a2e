namespace Tuning.Tuner.Grains;

/// <summary>A study at a glance: what progress displays and clients poll.</summary>
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
    DateTimeOffset? CompletedAt);

/// <summary>An entry of the study registry: enough to find a study again by name and spec, and to list a namespace's.</summary>
[GenerateSerializer, Immutable]
public sealed record StudyEntry(Guid Id, string Name, string Namespace, string SourceHash, DateTimeOffset CreatedAt);
