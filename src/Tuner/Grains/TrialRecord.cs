using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;

namespace Tuning.Tuner.Grains;

/// <summary>What one step of a trial did.</summary>
[GenerateSerializer, Immutable]
public sealed record StepRecord(string Name, bool Cached, double Seconds, string? Error);

/// <summary>
/// Everything known about one trial. Each trial is kept as its own record (its own row), so recording a
/// trial never rewrites the others.
/// </summary>
/// <param name="Retries">Why each earlier attempt was given up (its silo lost, its pod evicted): reruns up to <c>budget.maxRetries</c>.</param>
/// <param name="Silo">The silo that runs (or ran) the trial's current attempt.</param>
/// <param name="Attempt">The current attempt's id: what another attempt reports is not taken.</param>
/// <param name="Enqueued">
/// The trial ran a parameter set of the study file's <c>enqueue</c> list rather than a suggestion. Added after the
/// others so records stored before it still read (as false: <see cref="StudyGrain"/> sets it again on load).
/// </param>
/// <param name="Note">What the trial reported that was not kept (metric names past <see cref="MetricReport.MaxNames"/>); null when nothing was left out.</param>
[GenerateSerializer, Immutable]
public sealed record TrialRecord(
    string Id,
    int Number,
    TrialStatus Status,
    Dictionary<string, ParameterValue> Parameters,
    Dictionary<string, double> Metrics,
    Dictionary<string, MetricPoint[]> Intermediate,
    StepRecord[] Steps,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    string[]? Retries = null,
    string? Silo = null,
    string? Attempt = null,
    bool Enqueued = false,
    string? Note = null);
