namespace Tuning.Tuner.Grains;

/// <summary>
/// Which trials a client wants: those of one status (or all) whose parameters meet the conditions, in an order, at
/// most <see cref="Limit"/>, after the cursor a previous page returned.
/// </summary>
/// <param name="Sort"><c>number</c>, <c>value</c> (the objective, best first), <c>duration</c>; a leading <c>-</c> reverses.</param>
/// <param name="Parameters">A trial matches when, for each parameter named, its value meets one of that name's conditions.</param>
[GenerateSerializer, Immutable]
public sealed record TrialQuery(TrialStatus? Status = null, string Sort = "number", int Limit = 100, string? After = null,
    ParameterCondition[]? Parameters = null)
{
    public const int MaxLimit = 1000;
    public static readonly string[] Sorts = ["number", "value", "duration"];
}

/// <summary>A page of trials, how many match the query in all, and the cursor of the next page (null on the last).</summary>
[GenerateSerializer, Immutable]
public sealed record TrialPage(TrialRecord[] Trials, int Total, string? Next);

/// <summary>
/// A condition on one parameter: a number from <see cref="Min"/> to <see cref="Max"/> (inclusive; a missing bound is
/// open), or, where <see cref="Category"/> is set, that category.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ParameterCondition(string Name, double? Min, double? Max, string? Category)
{
    /// <summary>
    /// <c>NAME:MIN..MAX</c> (either bound may be left out) or <c>NAME:CATEGORY</c>, as <c>?param=</c> takes it; null
    /// when there is no name or a bound is no number.
    /// </summary>
    public static ParameterCondition? Parse(string text)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0) return null;
        var (name, value) = (text[..colon], text[(colon + 1)..]);
        var dots = value.IndexOf("..", StringComparison.Ordinal);
        if (dots < 0) return new ParameterCondition(name, null, null, value);
        double? Bound(string bound) =>
            bound.Length == 0 ? null
            : double.TryParse(bound, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number
            : double.NaN;
        var (min, max) = (Bound(value[..dots]), Bound(value[(dots + 2)..]));
        return min is double.NaN || max is double.NaN ? null : new ParameterCondition(name, min, max, null);
    }

    public bool Admits(Tuning.Algorithms.Space.ParameterValue value) =>
        Category is not null ? value.Category == Category
        : !value.IsCategory && (Min is not { } min || value.Number >= min) && (Max is not { } max || value.Number <= max);
}
