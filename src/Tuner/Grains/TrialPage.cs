namespace Tuning.Tuner.Grains;

/// <summary>
/// Which trials a client wants: those of one status (or all), in an order, at most <see cref="Limit"/>, after
/// the cursor a previous page returned.
/// </summary>
/// <param name="Sort"><c>number</c>, <c>value</c> (the objective, best first), <c>duration</c>; a leading <c>-</c> reverses.</param>
[GenerateSerializer, Immutable]
public sealed record TrialQuery(TrialStatus? Status = null, string Sort = "number", int Limit = 100, string? After = null)
{
    public const int MaxLimit = 1000;
    public static readonly string[] Sorts = ["number", "value", "duration"];
}

/// <summary>A page of trials, how many match the query in all, and the cursor of the next page (null on the last).</summary>
[GenerateSerializer, Immutable]
public sealed record TrialPage(TrialRecord[] Trials, int Total, string? Next);
