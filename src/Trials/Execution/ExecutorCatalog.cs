using Tuning.Trials.Execution.Kubernetes;

namespace Tuning.Trials.Execution;

/// <summary>
/// The executors a study file may name, and which of them this machine can run. Decided here once, so the study
/// file, <c>tuner run</c> and the silo cannot disagree.
/// </summary>
public static class ExecutorCatalog
{
    public const string Local = "local";

    public const string Container = "container";

    public const string Kubernetes = "kubernetes";

    public static IReadOnlyList<string> Names { get; } = [Local, Container, Kubernetes];

    /// <summary>Why this machine cannot run steps on <paramref name="name"/>, or null where it can.</summary>
    public static string? Unavailable(string name) => name switch
    {
        Local => null,
        Container => ContainerExecutor.FindEngine() is null
            ? "trial.executor 'container' needs a container engine, and neither podman nor docker is installed (on Debian: apt install podman)"
            : null,
        Kubernetes => KubernetesSettings.Read(Environment.GetEnvironmentVariable).Problem ?? KubernetesSettings.Connect().Problem,
        _ => $"trial.executor '{name}' is not one of {string.Join(", ", Names)}",
    };
}
