namespace Tuning.Tuner.Grains;

/// <summary>Every study in this store, so a study can be found again by name after a restart.</summary>
public interface IStudyRegistryGrain : IGrainWithIntegerKey
{
    Task Register(StudyEntry entry);

    Task<StudyEntry[]> List();

    Task Remove(Guid id);
}
