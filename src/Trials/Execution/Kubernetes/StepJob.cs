using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Tuning.Trials.Execution.Kubernetes;

/// <summary>
/// The <c>batch/v1</c> Job that runs one step of one trial: its name, labels and annotations tie it to the trial and
/// step; its single container runs the step's image and command with the shared claim mounted by sub-path.
/// </summary>
public static partial class StepJob
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "tuning";
    public const string TrialLabel = "tuning.dev/trial";
    public const string StepLabel = "tuning.dev/step";

    /// <summary>On the pod template: the Job a pod belongs to, so its pods are listed and watched by one selector.</summary>
    public const string JobLabel = "tuning.dev/job";

    public const string TrialAnnotation = "tuning.dev/trial";
    public const string StepAnnotation = "tuning.dev/step";

    /// <summary>The step's folder on the tuner's side of the claim: what a restarted tuner finds its leftovers by.</summary>
    public const string StepFolderAnnotation = "tuning.dev/step-dir";

    public const string ContainerName = "step";
    private const string VolumeName = "shared";

    /// <summary>
    /// One name per trial and step, the same for every attempt: a rerun finds the Job an earlier attempt left and
    /// deletes it before it creates its own, so a step never runs twice at once. A DNS label: 63 characters at most.
    /// </summary>
    public static string Name(string trialId, string stepName)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(trialId + "/" + stepName)))[..12];
        var readable = NotInName().Replace(stepName.ToLowerInvariant(), "-").Trim('-');
        var name = $"tuning-{hash}-{readable}";
        return (name.Length > 63 ? name[..63] : name).TrimEnd('-');
    }

    /// <summary>
    /// The Job for <paramref name="step"/>. Its folders are given as sub-paths of the claim; <paramref name="timeLeft"/>,
    /// the trial's remaining time, becomes <c>activeDeadlineSeconds</c>, so the cluster ends the step even when the
    /// tuner that watched it is gone.
    /// </summary>
    public static V1Job Build(StepInvocation step, StepFolders folders, KubernetesSettings settings, TimeSpan? timeLeft)
    {
        var name = Name(step.TrialId, step.StepName);
        var labels = new Dictionary<string, string>
        {
            [ManagedByLabel] = ManagedBy,
            [TrialLabel] = LabelValue(step.TrialId),
            [StepLabel] = LabelValue(step.StepName),
        };
        var podLabels = new Dictionary<string, string>(labels) { [JobLabel] = name };
        var annotations = new Dictionary<string, string>
        {
            [TrialAnnotation] = step.TrialId,
            [StepAnnotation] = step.StepName,
            [StepFolderAnnotation] = step.StepDirectory,
        };

        var mounts = new List<V1VolumeMount>
        {
            Mount(MountPoints.Study, folders.Study, readOnly: true),
            Mount(MountPoints.Outputs, folders.Outputs, readOnly: false),
            Mount(MountPoints.Step, folders.Step, readOnly: false),
        };
        if (folders.Trial is { } trial) mounts.Add(Mount(MountPoints.Trial, trial, readOnly: false));
        mounts.AddRange(folders.Inputs.Select(input => Mount(MountPoints.Input(input.Key), input.Value, readOnly: true)));

        var metricsFile = $"{MountPoints.Step}/metrics.jsonl";
        var container = new V1Container
        {
            Name = ContainerName,
            Image = step.Image,
            // As args, not command: the image's entrypoint stays, as `podman run IMAGE ARGS` keeps it for a container step.
            Args = step.Command.ToList(),
            WorkingDir = MountPoints.Step,
            Env = LocalExecutor.StepEnvironment(step, metricsFile, MountPoints.Outputs)
                .Select(variable => new V1EnvVar { Name = variable.Key, Value = variable.Value }).ToList(),
            Resources = Resources(step.Resources),
            VolumeMounts = mounts,
        };
        var gpu = step.Resources.Gpu > 0;
        var pod = new V1PodSpec
        {
            RestartPolicy = "Never",
            Containers = [container],
            Volumes = [new V1Volume { Name = VolumeName, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = settings.Claim } }],
            ImagePullSecrets = settings.PullSecrets.Count == 0 ? null : settings.PullSecrets.Select(secret => new V1LocalObjectReference { Name = secret }).ToList(),
            NodeSelector = gpu && settings.GpuNodeSelector.Count > 0 ? settings.GpuNodeSelector.ToDictionary() : null,
            Tolerations = gpu && settings.GpuTolerations.Count > 0 ? settings.GpuTolerations.ToList() : null,
        };
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = settings.Namespace, Labels = labels, Annotations = annotations },
            Spec = new V1JobSpec
            {
                // Retrying a failed step is the tuner's decision, made with the trial's whole record in view.
                BackoffLimit = 0,
                ActiveDeadlineSeconds = timeLeft is { } left ? Math.Max(1, (long)Math.Ceiling(left.TotalSeconds)) : null,
                TtlSecondsAfterFinished = (int)settings.JobTimeToLive.TotalSeconds,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = podLabels, Annotations = annotations },
                    Spec = pod,
                },
            },
        };
    }

    /// <summary>
    /// Requests and limits alike: a step gets what it asked for and no more, so a memory limit ends it as
    /// <c>OOMKilled</c> rather than starving its neighbours. GPUs are whole devices in Kubernetes: a share rounds up.
    /// </summary>
    private static V1ResourceRequirements? Resources(Studies.ResourceSpec resources)
    {
        var amounts = new Dictionary<string, ResourceQuantity>();
        if (resources.Cpu is { } cpu) amounts["cpu"] = new ResourceQuantity(cpu.ToString(CultureInfo.InvariantCulture));
        // A study file may write 512K as engines do; Kubernetes spells decimal kilo 'k'.
        if (resources.Memory is { } memory) amounts["memory"] = new ResourceQuantity(memory.EndsWith('K') ? memory[..^1] + "k" : memory);
        if (resources.Gpu > 0) amounts["nvidia.com/gpu"] = new ResourceQuantity(GpuSlots.DevicesNeeded(resources.Gpu).ToString(CultureInfo.InvariantCulture));
        return amounts.Count == 0 ? null : new V1ResourceRequirements { Requests = amounts, Limits = new Dictionary<string, ResourceQuantity>(amounts) };
    }

    private static V1VolumeMount Mount(string at, string subPath, bool readOnly) =>
        new() { Name = VolumeName, MountPath = at, SubPath = subPath, ReadOnlyProperty = readOnly };

    /// <summary>A label value: 63 characters of letters, digits, '-', '_' and '.', starting and ending alphanumeric.</summary>
    private static string LabelValue(string text)
    {
        var value = NotInLabel().Replace(text, "-");
        return (value.Length > 63 ? value[..63] : value).Trim('-', '_', '.');
    }

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex NotInName();

    [GeneratedRegex("[^A-Za-z0-9_.-]+")]
    private static partial Regex NotInLabel();
}

/// <summary>A step's folders as sub-paths of the shared claim.</summary>
public sealed record StepFolders(string Study, string Outputs, string Step, string? Trial, IReadOnlyDictionary<string, string> Inputs)
{
    /// <summary>
    /// The sub-paths of the step's folders below <paramref name="volumeRoot"/>, or which folder is not on the claim:
    /// a pod can mount only what the claim holds.
    /// </summary>
    public static (StepFolders? Folders, string? Problem) Of(StepInvocation step, string volumeRoot)
    {
        string? problem = null;
        string Sub(string what, string path)
        {
            var relative = Path.GetRelativePath(volumeRoot, Path.GetFullPath(path));
            if (relative == ".") return "";
            if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
                problem ??= $"step '{step.StepName}': the {what} {path} is not on the shared volume at {volumeRoot} " +
                    $"({KubernetesSettings.VolumeRootVariable}); pods can mount only what the claim holds, so keep studies and the data folder there";
            return relative;
        }
        var folders = new StepFolders(
            Sub("study folder", step.StudyDirectory),
            Sub("outputs folder", step.OutputDirectory),
            Sub("step folder", step.StepDirectory),
            step.TrialDirectory is { } trial ? Sub("trial folder", trial) : null,
            (step.Inputs ?? new Dictionary<string, string>()).ToDictionary(input => input.Key, input => Sub($"outputs of step '{input.Key}'", input.Value)));
        return problem is null ? (folders, null) : (null, problem);
    }
}
