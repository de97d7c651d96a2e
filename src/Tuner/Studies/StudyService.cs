using Tuning.Tuner.Hosting;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Studies;

/// <summary>A study as a front end started it: new, or an unfinished one resumed.</summary>
public sealed record StartedStudy(IStudyGrain Study, StudySnapshot Snapshot, bool Resumed);

/// <summary>What asking to stop a study came to.</summary>
public enum StopOutcome { Stopped, NotFound, AlreadyEnded }

/// <summary>
/// What every front end (<c>tuner run</c>, the HTTP service, the client verbs through it) does with studies, over
/// the grains: submit, find or resume, list, read, page through trials, stop, delete. Every call that names a
/// study takes the caller's namespace, and a study of another namespace is not found, as if it did not exist;
/// a null namespace (an operator's) sees every study.
/// </summary>
public sealed class StudyService(IGrainFactory grains, ExecutorSelector executors)
{
    private IStudyRegistryGrain Registry => grains.GetGrain<IStudyRegistryGrain>(0);

    /// <summary>
    /// Starts the study: the newest unfinished study with the same name and the same source (text, folder and
    /// namespace) is resumed, finished trials kept and running ones run again; otherwise a new study is created.
    /// </summary>
    public async Task<StartedStudy> StartOrResumeAsync(StudySpec spec, StudySource source)
    {
        RefuseWhatCannotRun(spec);
        var hash = source.Hash();
        var candidates = (await Registry.List())
            .Where(e => e.Name == spec.Name && e.SourceHash == hash)
            .OrderByDescending(e => e.CreatedAt);
        foreach (var entry in candidates)
        {
            var existing = grains.GetGrain<IStudyGrain>(entry.Id);
            if ((await existing.GetSnapshot()).Status.IsTerminal()) continue;
            return new StartedStudy(existing, await existing.Start(), Resumed: true);
        }
        var study = grains.GetGrain<IStudyGrain>(Guid.NewGuid());
        await study.Create(source, Random.Shared.Next());
        return new StartedStudy(study, await study.Start(), Resumed: false);
    }

    /// <summary>
    /// Creates and starts a new study from a submitted file. Throws <see cref="StudyFileException"/> with every
    /// problem of the file, or with the one reason this machine cannot run it (the executor, the GPUs).
    /// </summary>
    public async Task<StudySnapshot> SubmitAsync(StudySource source)
    {
        var spec = StudyFile.Parse(source.Text, source.Directory);
        RefuseWhatCannotRun(spec);
        var study = grains.GetGrain<IStudyGrain>(Guid.NewGuid());
        await study.Create(source, Random.Shared.Next());
        return await study.Start();
    }

    /// <summary>Throws <see cref="StudyFileException"/> with the one reason this silo cannot run the study, if there is one.</summary>
    private void RefuseWhatCannotRun(StudySpec spec)
    {
        if (executors.CannotRun(spec) is { } problem) throw new StudyFileException([problem]);
    }

    /// <summary>The namespace's studies (every study for null), newest first.</summary>
    public async Task<IReadOnlyList<StudySnapshot>> ListAsync(string? @namespace)
    {
        var entries = (await Registry.List()).Where(e => @namespace is null || e.Namespace == @namespace).OrderByDescending(e => e.CreatedAt);
        var snapshots = await Task.WhenAll(entries.Select(async e =>
        {
            try
            {
                return await grains.GetGrain<IStudyGrain>(e.Id).GetSnapshot();
            }
            catch (InvalidOperationException)
            {
                return null; // deleted since the registry was read
            }
        }));
        return snapshots.OfType<StudySnapshot>().ToArray();
    }

    public async Task<StudySnapshot?> GetAsync(Guid id, string? @namespace) =>
        await FindAsync(id, @namespace) is { } study ? await study.GetSnapshot() : null;

    public async Task<TrialPage?> TrialsAsync(Guid id, string? @namespace, TrialQuery query) =>
        await FindAsync(id, @namespace) is { } study ? await study.GetTrialPage(query) : null;

    /// <summary>The study, every trial and its file (for reports and plots), or null where there is no such study.</summary>
    public async Task<(StudySnapshot Study, TrialRecord[] Trials, StudySource Source)?> ReportAsync(Guid id, string? @namespace) =>
        await FindAsync(id, @namespace) is { } study ? (await study.GetSnapshot(), await study.GetTrials(), await study.GetSource()) : null;

    public async Task<StudySource?> SourceAsync(Guid id, string? @namespace) =>
        await FindAsync(id, @namespace) is { } study ? await study.GetSource() : null;

    /// <summary>Stops a running study (its trials' processes killed, none left Running).</summary>
    public async Task<(StopOutcome Outcome, StudySnapshot? Study)> StopAsync(Guid id, string? @namespace)
    {
        if (await FindAsync(id, @namespace) is not { } study) return (StopOutcome.NotFound, null);
        var before = await study.GetSnapshot();
        if (before.Status.IsTerminal()) return (StopOutcome.AlreadyEnded, before);
        // It may end by itself between the look and the stop: then it was not this call that ended it.
        var after = await study.Stop();
        return (after.Status == StudyStatus.Stopped ? StopOutcome.Stopped : StopOutcome.AlreadyEnded, after);
    }

    /// <summary>Stops the study if it runs and forgets it; false where there is no such study.</summary>
    public async Task<bool> DeleteAsync(Guid id, string? @namespace)
    {
        if (await FindAsync(id, @namespace) is not { } study) return false;
        await study.Delete();
        return true;
    }

    /// <summary>Starts again every study that was running when the last process ended; returns how many.</summary>
    public async Task<int> ResumeRunningAsync()
    {
        var resumed = 0;
        foreach (var entry in await Registry.List())
        {
            var study = grains.GetGrain<IStudyGrain>(entry.Id);
            if ((await study.GetSnapshot()).Status != StudyStatus.Running) continue;
            await study.Start();
            resumed++;
        }
        return resumed;
    }

    private async Task<IStudyGrain?> FindAsync(Guid id, string? @namespace) =>
        (await Registry.List()).Any(e => e.Id == id && (@namespace is null || e.Namespace == @namespace)) ? grains.GetGrain<IStudyGrain>(id) : null;
}
