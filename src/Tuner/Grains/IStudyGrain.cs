using Orleans.Concurrency;

namespace Tuning.Tuner.Grains;

/// <summary>
/// One study: its spec, its budget and the suggestions. It decides which trials run and when the study ends;
/// the trials themselves run in <see cref="ITrialGrain"/>s. Reads interleave with everything, and suggestions
/// are computed off the grain's turn, so a client polling a study never waits behind a model fit.
/// </summary>
public interface IStudyGrain : IGrainWithGuidKey
{
    /// <summary>Records a new study; <paramref name="seed"/> is used where the study file gives none.</summary>
    Task<StudySnapshot> Create(StudySource source, int seed);

    /// <summary>Starts the study, or resumes it after a crash: trials that were running run again.</summary>
    Task<StudySnapshot> Start();

    /// <summary>
    /// Ends a running study as Stopped, its running trials cancelled; an ended study is left as it is. Throws
    /// <see cref="StudyNotFoundException"/> for a study deleted meanwhile.
    /// </summary>
    Task<StudySnapshot> Stop();

    /// <summary>
    /// Stops the study if it runs and marks it deleting in the registry (front ends no longer see it), then forgets
    /// it in the background: its trials, its run folders and its registry entry.
    /// </summary>
    Task Delete();

    /// <summary>The study at a glance. The registry says which studies exist; asking one that does not throws <see cref="StudyNotFoundException"/>.</summary>
    [AlwaysInterleave]
    Task<StudySnapshot> GetSnapshot();

    [AlwaysInterleave]
    Task<TrialRecord[]> GetTrials();

    /// <summary>
    /// The trial the model believes best (<see cref="Recommender"/>); null when no trial succeeded. Fitted on the thread
    /// pool when the number of succeeded trials changed, so a poll never waits behind more than one fit.
    /// </summary>
    [AlwaysInterleave]
    Task<RecommendedTrial?> GetRecommendation();

    /// <summary>One page of the study's trials, filtered and sorted.</summary>
    [AlwaysInterleave]
    Task<TrialPage> GetTrialPage(TrialQuery query);

    /// <summary>The study file as submitted.</summary>
    [AlwaysInterleave]
    Task<StudySource> GetSource();

    /// <summary>
    /// Called by a running trial with its metrics so far: the study keeps its learning curves and answers why the
    /// trial should stop early, or null. Interleaves (it never awaits), so a trial is not held up behind a model fit.
    /// </summary>
    [AlwaysInterleave]
    Task<string?> TrialProgress(TrialRecord record);

    /// <summary>Called by a trial when its run has ended (succeeded, failed or cancelled).</summary>
    Task TrialFinished(TrialRecord record);

    /// <summary>
    /// An external study's ask: a trial silent for its heartbeat timeout again under a new attempt, else the next
    /// trial number with the enqueued set or the suggester's parameters (trials asked and not told are pending), stored
    /// before the answer. Refused (a conflict) once the budget is spent or the study has ended.
    /// </summary>
    Task<ExternalAnswer> Ask();

    /// <summary>A client's intermediate values: stored on the trial, then judged by the study's early-stopping rule (<see cref="ExternalAnswer.StopReason"/>).</summary>
    Task<ExternalAnswer> Report(int number, string attempt, long step, Dictionary<string, double> metrics);

    /// <summary>
    /// A client's outcome: <paramref name="metrics"/> (with the objective) for a trial that succeeded, or why it
    /// <paramref name="failed"/>. Stored on the trial, then observed by the study.
    /// </summary>
    Task<ExternalAnswer> Tell(int number, string attempt, Dictionary<string, double>? metrics, string? failed);

    /// <summary>The client of the trial's current attempt is alive: its lease is renewed.</summary>
    Task<ExternalAnswer> Heartbeat(int number, string attempt);
}
