namespace Tuning.Tuner.Grains;

/// <summary>Every study in this store, so a study can be found again by name after a restart.</summary>
public interface IStudyRegistryGrain : IGrainWithIntegerKey
{
    Task Register(StudyEntry entry);

    Task<StudyEntry[]> List();

    /// <summary>The study's delete has begun: its entry stays, marked, until <see cref="Remove"/>.</summary>
    Task MarkDeleting(Guid id);

    Task Remove(Guid id);
}
