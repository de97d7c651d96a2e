using Orleans.Concurrency;

namespace Tuning.Tuner.Grains;

/// <summary>One run of a study's pipeline with one parameter set. Keyed "{studyId}/{number}".</summary>
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>Starts the run in the background and returns at once. Idempotent: a run already in flight is kept.</summary>
    Task<TrialRecord> Start(TrialAssignment assignment);

    Task<TrialRecord?> GetRecord();

    /// <summary>
    /// Called for a trial its study believes running: if its record says Running yet no run is in flight here (the
    /// silo that ran it is gone), the attempt is recorded as lost and the trial runs again, or fails once more than
    /// <paramref name="maxRetries"/> attempts were lost. Returns the record as it now stands.
    /// </summary>
    Task<TrialRecord?> EnsureRunning(TrialAssignment assignment, int maxRetries);

    /// <summary>
    /// Stores a running trial's metrics so far (its learning curves). False, storing nothing, once the trial has ended
    /// or for a report of another attempt than the current one: such a report is not to reach the study either.
    /// </summary>
    Task<bool> RecordProgress(TrialRecord record);

    /// <summary>
    /// Kills the run, if any, and returns the trial's record once the run has stored its end (Cancelled with
    /// <paramref name="reason"/>, or how it ended first), so a study that ends never shows a trial still Running.
    /// Interleaves so it is heard while the trial waits on others.
    /// </summary>
    [AlwaysInterleave]
    Task<TrialRecord?> Cancel(string reason);

    /// <summary>
    /// Stores the record of a finished run; called by the run itself. False, storing nothing, for a run that is no
    /// longer the trial's current attempt (the trial ran again meanwhile).
    /// </summary>
    Task<bool> Save(TrialRecord record);

    /// <summary>
    /// Hands the trial to a client (an external study's ask): stored as Running under a new attempt id, which the
    /// client's reports and tell must carry. Nothing runs here.
    /// </summary>
    Task<TrialRecord> Ask(TrialAssignment assignment);

    /// <summary>
    /// The client of the current attempt went silent (<paramref name="reason"/>): the attempt is recorded in the
    /// retries and the trial handed out under a new attempt, or failed once more than <paramref name="maxRetries"/>
    /// attempts were given up. Returns the record as it now stands.
    /// </summary>
    Task<TrialRecord> AskAgain(TrialAssignment assignment, string reason, int maxRetries);

    /// <summary>A client's intermediate values at <paramref name="step"/>, taken only from the current attempt of a trial not ended.</summary>
    Task<ExternalAnswer> Report(string attempt, long step, Dictionary<string, double> metrics);

    /// <summary>
    /// A client's outcome of the current attempt: stored as the trial's end. The same outcome again is answered as
    /// taken (a client may retry); another one, or one from a superseded attempt, is a conflict.
    /// </summary>
    Task<ExternalAnswer> Tell(string attempt, TrialStatus status, Dictionary<string, double> metrics, string? error);

    /// <summary>Forgets the trial (its study is being deleted, its run already cancelled).</summary>
    Task Clear();
}

/// <summary>What a trial grain needs to run: the study, its number and its parameters.</summary>
/// <param name="Enqueued">The parameters are an enqueued set of the study file, not a suggestion.</param>
[GenerateSerializer, Immutable]
public sealed record TrialAssignment(Guid StudyId, int Number, Dictionary<string, Tuning.Algorithms.Space.ParameterValue> Parameters, StudySource Source, bool Enqueued = false);
