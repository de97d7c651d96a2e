namespace Tuning.Tuner.Grains;

/// <summary>Why an ask, report, tell or heartbeat of an external trial was not taken.</summary>
[GenerateSerializer]
public enum Refusal
{
    None,
    /// <summary>No trial of that number was asked for.</summary>
    NoSuchTrial,
    /// <summary>It conflicts with the study's or the trial's state: a superseded attempt, another tell, a spent budget, an ended study.</summary>
    Conflict,
    /// <summary>The request itself is wrong (a tell without the objective metric).</summary>
    Invalid,
}

/// <summary>
/// What an ask, report, tell or heartbeat of an external trial came to: the trial as it now stands, or why the call was
/// refused. Refusals are answers, not exceptions: a client's stale attempt is an everyday event, not a failure.
/// </summary>
/// <param name="StopReason">For a report: why the study stopped the trial early; null while it goes on.</param>
[GenerateSerializer, Immutable]
public sealed record ExternalAnswer(
    [property: Id(0)] TrialRecord? Trial,
    [property: Id(1)] Refusal Refusal = Refusal.None,
    [property: Id(2)] string? Reason = null,
    [property: Id(3)] string? StopReason = null)
{
    public static ExternalAnswer Refused(Refusal refusal, string reason) => new(null, refusal, reason);
}
