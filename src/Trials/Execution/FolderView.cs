namespace Tuning.Trials.Execution;

/// <summary>
/// The paths a step's placeholders and study-relative arguments turn into: where the step sees the study folder,
/// its outputs, the trial folder and the outputs of the steps it depends on. A local process sees this machine's
/// folders; a container or a Kubernetes pod sees them mounted at <see cref="MountPoints"/>.
/// </summary>
public sealed record FolderView(string Study, string Outputs, string Trial, Func<string, string> Inputs)
{
    /// <summary>A path relative to the study folder (<c>./train.sh</c>, <c>conf/a.yaml</c>) as the step sees it.</summary>
    public string InStudy(string relative) => Path.GetFullPath(Path.Combine(Study, relative));

    /// <summary>The fixed mount points of an isolated step: the same in every container and pod, so also what cache keys see.</summary>
    public static readonly FolderView Mounted = new(MountPoints.Study, MountPoints.Outputs, MountPoints.Trial, MountPoints.Input);
}

/// <summary>Where an isolated step (a container, a pod) finds its folders.</summary>
public static class MountPoints
{
    /// <summary>The study folder, read-only.</summary>
    public const string Study = "/study";

    /// <summary>The step's outputs (<c>${outputs}</c>), read-write.</summary>
    public const string Outputs = "/outputs";

    /// <summary>The trial's folder (<c>${trial.dir}</c>), read-write.</summary>
    public const string Trial = "/trial";

    /// <summary>The step's own folder: its working folder, where its metrics file is.</summary>
    public const string Step = "/step";

    /// <summary>The outputs of a step this step depends on (<c>${steps.NAME.outputs}</c>), read-only.</summary>
    public static string Input(string step) => "/inputs/" + step;
}
