namespace Tuning.Trials.Execution;

/// <summary>
/// The executors a study file may name, and which of them this build can run. Decided here once, so the study
/// file, <c>tuner run</c> and the silo cannot disagree.
/// </summary>
public static class ExecutorCatalog
{
    public const string Local = "local";

    public static IReadOnlyList<string> Names { get; } = [Local, "container", "kubernetes"];

    /// <summary>Why this build cannot run steps on <paramref name="name"/>, or null where it can.</summary>
    public static string? Unavailable(string name) =>
        name == Local ? null : $"trial.executor '{name}' is not available in this build yet; use executor: local";
}
