using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;

namespace Tuning.Tuner.Grains;

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

/// <summary>Orleans' wire form of <see cref="Tuning.Trials.Caching.TurnAnswer"/>, which lives in the Orleans-free Trials layer.</summary>
[GenerateSerializer]
public struct TurnAnswerSurrogate
{
    [Id(0)] public int Outcome;
    [Id(1)] public Guid Turn;
    [Id(2)] public string? Error;
}

[RegisterConverter]
public sealed class TurnAnswerConverter : IConverter<Tuning.Trials.Caching.TurnAnswer, TurnAnswerSurrogate>
{
    public Tuning.Trials.Caching.TurnAnswer ConvertFromSurrogate(in TurnAnswerSurrogate surrogate) =>
        new((Tuning.Trials.Caching.TurnOutcome)surrogate.Outcome, surrogate.Turn, surrogate.Error);

    public TurnAnswerSurrogate ConvertToSurrogate(in Tuning.Trials.Caching.TurnAnswer value) =>
        new() { Outcome = (int)value.Outcome, Turn = value.Turn, Error = value.Error };
}
