using System.Security.Cryptography;
using System.Text;
using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;

namespace Tuning.Tuner.Grains;

public enum StudyStatus { Created, Running, Succeeded, Failed, Stopped }

public enum TrialStatus { Pending, Running, Succeeded, Failed, EarlyStopped, Cancelled }

public static class StatusExtensions
{
    public static bool IsTerminal(this StudyStatus status) => status is StudyStatus.Succeeded or StudyStatus.Failed or StudyStatus.Stopped;

    public static bool IsTerminal(this TrialStatus status) => status is not (TrialStatus.Pending or TrialStatus.Running);
}

/// <summary>
/// A study file as submitted: its text and the folder its relative paths resolve against. Grains keep this
/// and parse it when they need the spec, so the spec's types never have to cross the wire.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StudySource(string Text, string Directory)
{
    /// <summary>What makes two submissions the same study: the same text in the same folder.</summary>
    public string Hash() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Directory + "\n" + Text)));
}

/// <summary>What one step of a trial did.</summary>
[GenerateSerializer, Immutable]
public sealed record StepRecord(string Name, bool Cached, double Seconds, string? Error);

/// <summary>
/// Everything known about one trial. Each trial is kept as its own record (its own row), so recording a
/// trial never rewrites the others.
/// </summary>
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
    string? Error);

/// <summary>A study at a glance: what progress displays and clients poll.</summary>
[GenerateSerializer, Immutable]
public sealed record StudySnapshot(
    Guid Id,
    string Name,
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

/// <summary>An entry of the study registry: enough to find a study again by name and spec.</summary>
[GenerateSerializer, Immutable]
public sealed record StudyEntry(Guid Id, string Name, string SourceHash, DateTimeOffset CreatedAt);

/// <summary>Orleans' wire form of <see cref="ParameterValue"/>, which lives in the Orleans-free Algorithms layer.</summary>
[GenerateSerializer]
public struct ParameterValueSurrogate
{
    [Id(0)] public double Number;
    [Id(1)] public string? Category;
}

[RegisterConverter]
public sealed class ParameterValueConverter : IConverter<ParameterValue, ParameterValueSurrogate>
{
    public ParameterValue ConvertFromSurrogate(in ParameterValueSurrogate surrogate) =>
        surrogate.Category is null ? ParameterValue.Of(surrogate.Number) : ParameterValue.Of(surrogate.Category);

    public ParameterValueSurrogate ConvertToSurrogate(in ParameterValue value) =>
        new() { Number = value.Number, Category = value.Category };
}

/// <summary>Orleans' wire form of <see cref="MetricPoint"/>, which lives in the Orleans-free Trials layer.</summary>
[GenerateSerializer]
public struct MetricPointSurrogate
{
    [Id(0)] public long Step;
    [Id(1)] public double Value;
}

[RegisterConverter]
public sealed class MetricPointConverter : IConverter<MetricPoint, MetricPointSurrogate>
{
    public MetricPoint ConvertFromSurrogate(in MetricPointSurrogate surrogate) => new(surrogate.Step, surrogate.Value);

    public MetricPointSurrogate ConvertToSurrogate(in MetricPoint value) => new() { Step = value.Step, Value = value.Value };
}
