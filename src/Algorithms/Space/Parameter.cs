using System.Collections.Immutable;

namespace Tuning.Algorithms.Space;

/// <summary>
/// A named dimension of the search space. Each kind owns its mapping to and from the unit interval,
/// so every suggester works on [0, 1]^d and never needs to know about log scales or rounding.
/// </summary>
public abstract record Parameter(string Name)
{
    /// <summary>Maps a valid value to [0, 1].</summary>
    public abstract double ToUnit(ParameterValue value);

    /// <summary>Maps any point of [0, 1] to a valid value (clamped, rounded, snapped to the step).</summary>
    public abstract ParameterValue FromUnit(double unit);

    /// <summary>
    /// How many values a grid search walks through, or null where the parameter is continuous. Computed, never
    /// enumerated: an int range of 10^12 values is a valid grid dimension, just not one to list.
    /// </summary>
    public abstract long? GridSize { get; }

    /// <summary>Grid value <paramref name="index"/> (0 ≤ index &lt; <see cref="GridSize"/>), in ascending order.</summary>
    public abstract ParameterValue GridValue(long index);

    /// <summary>True where the values have no order, so distances between them mean nothing.</summary>
    public virtual bool IsCategorical => false;

    /// <summary>
    /// Why <paramref name="value"/> is not a value this parameter takes (out of range, off its step, not among its
    /// values or categories, a name where a number belongs), or null where it is one: what an enqueued parameter set or
    /// an earlier study's trial must pass to be run or observed in this space.
    /// </summary>
    public abstract string? Problem(ParameterValue value);

    /// <summary>The common checks of the numeric kinds: a finite number within [min, max].</summary>
    protected static string? NumberProblem(ParameterValue value, double min, double max) =>
        value.IsCategory ? $"'{value.Category}' is not a number"
        : !double.IsFinite(value.Number) ? "must be a finite number"
        : value.Number < min || value.Number > max ? $"{value} is out of range [{Text(min)}, {Text(max)}]"
        : null;

    /// <summary>True where <paramref name="x"/> lies on the grid min + k·step, allowing for decimal rounding.</summary>
    protected static bool OnStep(double x, double min, double step)
    {
        var k = (x - min) / step;
        return Math.Abs(k - Math.Round(k)) <= 1e-9 * Math.Max(1, Math.Abs(k));
    }

    protected static string Text(double x) => ParameterValue.Of(x).ToString();

    protected static double Clamp01(double unit) => double.IsNaN(unit) ? 0.5 : Math.Clamp(unit, 0.0, 1.0);
}

/// <summary>A real-valued parameter; <c>Log</c> searches uniformly in log space, <c>Step</c> snaps to a grid.</summary>
public sealed record DoubleParameter(string Name, double Min, double Max, bool Log = false, double? Step = null)
    : Parameter(Name)
{
    private double Low => Log ? Math.Log(Min) : Min;
    private double High => Log ? Math.Log(Max) : Max;

    public override double ToUnit(ParameterValue value)
    {
        var x = Log ? Math.Log(value.Number) : value.Number;
        return High == Low ? 0.5 : Clamp01((x - Low) / (High - Low));
    }

    public override ParameterValue FromUnit(double unit)
    {
        var x = Low + Clamp01(unit) * (High - Low);
        if (Log) x = Math.Exp(x);
        if (Step is { } step)
            x = Min + Math.Round((x - Min) / step) * step;
        return ParameterValue.Of(Math.Clamp(x, Min, Max));
    }

    public override long? GridSize =>
        Step is { } step ? (long)Math.Min(Math.Floor((Max - Min) / step + 1e-9) + 1, long.MaxValue) : null;

    public override ParameterValue GridValue(long index) =>
        ParameterValue.Of(Math.Round(Min + index * (Step ?? throw new InvalidOperationException($"'{Name}' has no step")), 12));

    public override string? Problem(ParameterValue value) =>
        NumberProblem(value, Min, Max) ?? (Step is { } step && !OnStep(value.Number, Min, step)
            ? $"{value} is not on the step: {Text(Min)} + k·{Text(step)}"
            : null);
}

/// <summary>
/// A whole-number parameter. Its unit mapping widens the bounds by half a step on each side, so every
/// integer owns an equal share of [0, 1] and the end points are not sampled half as often.
/// </summary>
public sealed record IntParameter(string Name, long Min, long Max, bool Log = false, long Step = 1) : Parameter(Name)
{
    private double Low => Log ? Math.Log(Min - 0.5) : Min - 0.5 * Step;
    private double High => Log ? Math.Log(Max + 0.5) : Max + 0.5 * Step;

    public override double ToUnit(ParameterValue value)
    {
        var x = Log ? Math.Log(value.Number) : value.Number;
        return Clamp01((x - Low) / (High - Low));
    }

    public override ParameterValue FromUnit(double unit)
    {
        var x = Low + Clamp01(unit) * (High - Low);
        if (Log) x = Math.Exp(x);
        var snapped = Min + Math.Round((x - Min) / Step) * Step;
        return ParameterValue.Of(Math.Clamp(snapped, Min, Max - (Max - Min) % Step));
    }

    public override long? GridSize => (Max - Min) / Step + 1;

    public override ParameterValue GridValue(long index) => ParameterValue.Of(Min + index * Step);

    public override string? Problem(ParameterValue value) =>
        NumberProblem(value, Min, Max) ?? (Math.Floor(value.Number) != value.Number ? $"{value} is not a whole number"
            : Step != 1 && !OnStep(value.Number, Min, Step) ? $"{value} is not on the step: {Min} + k·{Step}"
            : null);
}

/// <summary>A numeric parameter restricted to listed values, kept in ascending order so that their order means something.</summary>
public sealed record DiscreteParameter : Parameter
{
    public DiscreteParameter(string name, IEnumerable<double> values) : base(name) =>
        Values = values.Distinct().Order().ToImmutableArray();

    public ImmutableArray<double> Values { get; }

    public override double ToUnit(ParameterValue value)
    {
        var index = Values.IndexOf(value.Number);
        return (Math.Max(index, 0) + 0.5) / Values.Length;
    }

    public override ParameterValue FromUnit(double unit) =>
        ParameterValue.Of(Values[Math.Min((int)(Clamp01(unit) * Values.Length), Values.Length - 1)]);

    public override long? GridSize => Values.Length;

    public override ParameterValue GridValue(long index) => ParameterValue.Of(Values[(int)index]);

    public override string? Problem(ParameterValue value) =>
        value.IsCategory ? $"'{value.Category}' is not a number"
        : Values.Contains(value.Number) ? null
        : $"{value} is not among the values [{string.Join(", ", Values.Select(Text))}]";
}

/// <summary>An unordered choice among names. Its unit position only indexes the choice; models must not read it as a distance.</summary>
public sealed record CategoricalParameter : Parameter
{
    public CategoricalParameter(string name, IEnumerable<string> values) : base(name) =>
        Values = values.ToImmutableArray();

    public ImmutableArray<string> Values { get; }

    public override bool IsCategorical => true;

    public int IndexOf(ParameterValue value) => Math.Max(Values.IndexOf(value.Category ?? ""), 0);

    public override double ToUnit(ParameterValue value) => (IndexOf(value) + 0.5) / Values.Length;

    public override ParameterValue FromUnit(double unit) =>
        ParameterValue.Of(Values[Math.Min((int)(Clamp01(unit) * Values.Length), Values.Length - 1)]);

    public override long? GridSize => Values.Length;

    public override ParameterValue GridValue(long index) => ParameterValue.Of(Values[(int)index]);

    public override string? Problem(ParameterValue value) =>
        Values.Contains(value.ToString()) ? null : $"'{value}' is not among the categories [{string.Join(", ", Values)}]";
}
