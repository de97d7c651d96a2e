using Orleans.Concurrency;

namespace Tuning.Tuner.Grains;

/// <summary>
/// One study: its spec, its budget and the suggestions. It decides which trials run and when the study ends;
/// the trials themselves run in <see cref="ITrialGrain"/>s.
/// </summary>
public interface IStudyGrain : IGrainWithGuidKey
{
    /// <summary>Records a new study; <paramref name="seed"/> is used where the study file gives none.</summary>
    Task<StudySnapshot> Create(StudySource source, int seed);

    /// <summary>Starts the study, or resumes it after a crash: trials that were running run again.</summary>
    Task<StudySnapshot> Start();

    Task<StudySnapshot> Stop();

    Task<StudySnapshot> GetSnapshot();

    Task<TrialRecord[]> GetTrials();

    /// <summary>Called by a trial when its run has ended (succeeded, failed or cancelled).</summary>
    Task TrialFinished(TrialRecord record);
}

/// <summary>One run of a study's pipeline with one parameter set. Keyed "{studyId}/{number}".</summary>
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>Starts the run in the background and returns at once. Idempotent: a run already in flight is kept.</summary>
    Task<TrialRecord> Start(TrialAssignment assignment);

    Task<TrialRecord?> GetRecord();

    /// <summary>Kills the run, if any. Interleaves so it is heard while the trial waits on others.</summary>
    [AlwaysInterleave]
    Task Cancel();

    /// <summary>Stores the record of a finished run; called by the run itself.</summary>
    Task Save(TrialRecord record);
}

/// <summary>What a trial grain needs to run: the study, its number and its parameters.</summary>
[GenerateSerializer, Immutable]
public sealed record TrialAssignment(Guid StudyId, int Number, Dictionary<string, Tuning.Algorithms.Space.ParameterValue> Parameters, StudySource Source);

/// <summary>Every study in this store, so a study can be found again by name after a restart.</summary>
public interface IStudyRegistryGrain : IGrainWithIntegerKey
{
    Task Register(StudyEntry entry);

    Task<StudyEntry[]> List();

    Task Remove(Guid id);
}
