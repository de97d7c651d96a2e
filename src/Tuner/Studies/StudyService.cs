using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Studies;

/// <summary>A study as a front end started it: new, or an unfinished one resumed.</summary>
public sealed record StartedStudy(IStudyGrain Study, StudySnapshot Snapshot, bool Resumed);

/// <summary>
/// What every front end (<c>tuner run</c> now, the HTTP service and client verbs next) does with studies, over
/// the grains: whether this machine can run a study, and the resume policy.
/// </summary>
public sealed class StudyService(IGrainFactory grains)
{
    /// <summary>Why this machine cannot run the study (an executor this build lacks, more GPUs than it lends), or null.</summary>
    public static string? CannotRun(StudySpec spec, GpuSlots gpus)
    {
        if (ExecutorCatalog.Unavailable(spec.Trial.Executor) is { } reason) return reason;
        var wanted = spec.Trial.Steps.Max(step => step.Resources.Gpu);
        return wanted <= gpus.Count
            ? null
            : $"a step needs {wanted} GPU{(wanted == 1 ? "" : "s")} and this machine lends {gpus.Count} " +
              $"(found through {GpuSlots.Variable}, CUDA_VISIBLE_DEVICES or nvidia-smi)";
    }

    /// <summary>
    /// Starts the study: the newest unfinished study with the same name and the same source (text and folder)
    /// is resumed, finished trials kept and running ones run again; otherwise a new study is created.
    /// </summary>
    public async Task<StartedStudy> StartOrResumeAsync(StudySpec spec, StudySource source)
    {
        var hash = source.Hash();
        var candidates = (await grains.GetGrain<IStudyRegistryGrain>(0).List())
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
}
