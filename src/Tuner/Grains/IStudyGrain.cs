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
