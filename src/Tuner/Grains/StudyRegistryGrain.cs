namespace Tuning.Tuner.Grains;

/// <summary>The list of studies in this store. It grows by one small entry per study, never per trial.</summary>
public sealed class StudyRegistryGrain(
    [PersistentState("registry", TuningStorage.Name)] IPersistentState<StudyRegistryGrain.RegistryState> state) : Grain, IStudyRegistryGrain
{
    [GenerateSerializer]
    public sealed class RegistryState
    {
        [Id(0)] public List<StudyEntry> Studies { get; set; } = [];
    }

    public async Task Register(StudyEntry entry)
    {
        if (state.State.Studies.Any(s => s.Id == entry.Id)) return;
        state.State.Studies.Add(entry);
        await state.WriteStateAsync();
    }

    public Task<StudyEntry[]> List() => Task.FromResult(state.State.Studies.ToArray());

    public async Task MarkDeleting(Guid id)
    {
        var index = state.State.Studies.FindIndex(s => s.Id == id);
        if (index < 0 || state.State.Studies[index].Deleting) return;
        state.State.Studies[index] = state.State.Studies[index] with { Deleting = true };
        await state.WriteStateAsync();
    }

    public async Task Remove(Guid id)
    {
        if (state.State.Studies.RemoveAll(s => s.Id == id) > 0) await state.WriteStateAsync();
    }
}
