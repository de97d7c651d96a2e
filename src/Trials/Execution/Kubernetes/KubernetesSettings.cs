using System.Globalization;
using k8s;
using k8s.Models;

namespace Tuning.Trials.Execution.Kubernetes;

/// <summary>
/// Where and how steps run as Kubernetes Jobs, read from the tuner's environment (the ConfigMap of
/// <c>deploy/kubernetes/</c> sets it). Steps and the tuner share one PersistentVolumeClaim: the tuner sees it at
/// <see cref="VolumeRoot"/>, where its data folder and the study folders live, and each pod mounts the folders it
/// needs from that claim by sub-path at the usual <see cref="MountPoints"/>.
/// </summary>
/// <param name="Namespace">Where Jobs are created.</param>
/// <param name="Claim">The PersistentVolumeClaim holding the data folder (outputs, cache) and the study folders.</param>
/// <param name="VolumeRoot">Where this tuner has <paramref name="Claim"/> mounted.</param>
/// <param name="PullSecrets">Image pull secrets every step's pod gets.</param>
/// <param name="GpuNodeSelector">Node labels a GPU step's pod must match.</param>
/// <param name="GpuTolerations">Taints a GPU step's pod tolerates (GPU nodes are usually tainted).</param>
/// <param name="JobTimeToLive">How long a finished Job stays for inspection before the cluster removes it.</param>
/// <param name="UnschedulableGrace">How long a pod may stay unschedulable (waiting for a node, an autoscaler) before the step fails.</param>
public sealed record KubernetesSettings(
    string Namespace,
    string Claim,
    string VolumeRoot,
    IReadOnlyList<string> PullSecrets,
    IReadOnlyDictionary<string, string> GpuNodeSelector,
    IReadOnlyList<V1Toleration> GpuTolerations,
    TimeSpan JobTimeToLive,
    TimeSpan UnschedulableGrace)
{
    public const string NamespaceVariable = "TUNER_KUBE_NAMESPACE";
    public const string ClaimVariable = "TUNER_KUBE_CLAIM";
    public const string VolumeRootVariable = "TUNER_KUBE_VOLUME_ROOT";
    public const string PullSecretsVariable = "TUNER_KUBE_PULL_SECRETS";
    public const string GpuNodeSelectorVariable = "TUNER_KUBE_GPU_NODE_SELECTOR";
    public const string GpuTolerationsVariable = "TUNER_KUBE_GPU_TOLERATIONS";
    public const string TimeToLiveVariable = "TUNER_KUBE_JOB_TTL_SECONDS";
    public const string UnschedulableGraceVariable = "TUNER_KUBE_UNSCHEDULABLE_SECONDS";

    /// <summary>Where a pod finds its own namespace; a tuner running in the cluster uses it unless told otherwise.</summary>
    private const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>
    /// The settings the environment gives, or why they are unusable: each problem names its variable and what it allows.
    /// </summary>
    public static (KubernetesSettings? Settings, string? Problem) Read(Func<string, string?> environment)
    {
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value.Trim() : null;
        var claim = Get(ClaimVariable);
        var root = Get(VolumeRootVariable);
        if (claim is null || root is null)
        {
            var missing = new[]
            {
                claim is null ? $"{ClaimVariable} (the PersistentVolumeClaim steps share)" : null,
                root is null ? $"{VolumeRootVariable} (where this tuner has that claim mounted, holding its data folder and the study folders)" : null,
            };
            return (null, $"trial.executor 'kubernetes' needs {string.Join(" and ", missing.OfType<string>())}; see deploy/kubernetes/");
        }
        if (!Path.IsPathRooted(root)) return (null, $"{VolumeRootVariable} must be an absolute path, not '{root}'");

        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in List(Get(GpuNodeSelectorVariable)))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
                return (null, $"{GpuNodeSelectorVariable}: '{pair}' is not LABEL=VALUE (for example nvidia.com/gpu.present=true)");
            selector[parts[0]] = parts[1];
        }
        var tolerations = new List<V1Toleration>();
        foreach (var entry in List(Get(GpuTolerationsVariable)))
        {
            if (Toleration(entry) is not { } toleration)
                return (null, $"{GpuTolerationsVariable}: '{entry}' is not KEY[=VALUE]:EFFECT with EFFECT NoSchedule, PreferNoSchedule or NoExecute");
            tolerations.Add(toleration);
        }
        if (!Seconds(Get(TimeToLiveVariable), 3600, out var ttl))
            return (null, $"{TimeToLiveVariable} must be a whole number of seconds, not '{Get(TimeToLiveVariable)}'");
        // Ten minutes: a GPU node an autoscaler adds takes five to ten to boot and install its driver.
        if (!Seconds(Get(UnschedulableGraceVariable), 600, out var grace))
            return (null, $"{UnschedulableGraceVariable} must be a whole number of seconds, not '{Get(UnschedulableGraceVariable)}'");

        var space = Get(NamespaceVariable)
            ?? (File.Exists(ServiceAccountNamespaceFile) ? File.ReadAllText(ServiceAccountNamespaceFile).Trim() : "default");
        return (new KubernetesSettings(space, claim, Path.GetFullPath(root), List(Get(PullSecretsVariable)), selector, tolerations, ttl, grace), null);
    }

    /// <summary>
    /// A client for the cluster this tuner runs in (its service account), else for KUBECONFIG or <c>~/.kube/config</c>;
    /// or why there is none.
    /// </summary>
    public static (IKubernetes? Client, string? Problem) Connect()
    {
        try
        {
            if (KubernetesClientConfiguration.IsInCluster())
                return (new k8s.Kubernetes(KubernetesClientConfiguration.InClusterConfig()), null);
            var file = Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } named
                ? named.Split(':')[0]
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
            if (!File.Exists(file))
                return (null, $"trial.executor 'kubernetes' needs a cluster: run the tuner in one (its service account is used) or give it a kubeconfig ({file} does not exist; set KUBECONFIG)");
            return (new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(file)), null);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or FormatException)
        {
            return (null, $"trial.executor 'kubernetes': the cluster's configuration is unusable: {e.Message}");
        }
    }

    private static IReadOnlyList<string> List(string? value) =>
        value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static bool Seconds(string? value, int fallback, out TimeSpan seconds)
    {
        seconds = TimeSpan.FromSeconds(fallback);
        if (value is null) return true;
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)) return false;
        seconds = TimeSpan.FromSeconds(parsed);
        return true;
    }

    /// <summary><c>KEY[=VALUE]:EFFECT</c>, as <c>kubectl taint</c> writes taints.</summary>
    private static V1Toleration? Toleration(string entry)
    {
        var colon = entry.LastIndexOf(':');
        if (colon <= 0) return null;
        var effect = entry[(colon + 1)..];
        if (effect is not ("NoSchedule" or "PreferNoSchedule" or "NoExecute")) return null;
        var taint = entry[..colon].Split('=', 2);
        return taint.Length == 2
            ? new V1Toleration { Key = taint[0], OperatorProperty = "Equal", Value = taint[1], Effect = effect }
            : new V1Toleration { Key = taint[0], OperatorProperty = "Exists", Effect = effect };
    }
}
