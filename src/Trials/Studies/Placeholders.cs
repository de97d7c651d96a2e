using System.Text.RegularExpressions;

namespace Tuning.Trials.Studies;

/// <summary>
/// The <c>${...}</c> placeholders of step commands and environments: <c>params.NAME</c>, <c>steps.STEP.outputs</c>,
/// <c>outputs</c>, <c>trial.id</c>, <c>trial.dir</c> and <c>study.dir</c>.
/// </summary>
public static partial class Placeholders
{
    [GeneratedRegex(@"\$\{([^}]*)\}")]
    private static partial Regex Pattern();

    /// <summary>Every placeholder name in a text, in order.</summary>
    public static IEnumerable<string> Names(string text) => Pattern().Matches(text).Select(m => m.Groups[1].Value);

    /// <summary>Replaces each placeholder with what <paramref name="resolve"/> gives for its name.</summary>
    public static string Substitute(string text, Func<string, string> resolve) =>
        text.Contains("${", StringComparison.Ordinal) ? Pattern().Replace(text, m => resolve(m.Groups[1].Value)) : text;

    /// <summary>The step a <c>steps.STEP.outputs</c> placeholder names, or null for any other placeholder.</summary>
    public static string? StepOutputsReference(string name) =>
        name.StartsWith("steps.", StringComparison.Ordinal) && name.EndsWith(".outputs", StringComparison.Ordinal) && name.Length > 14
            ? name[6..^8]
            : null;

    /// <summary>The parameter a <c>params.NAME</c> placeholder names, or null for any other placeholder.</summary>
    public static string? ParameterReference(string name) =>
        name.StartsWith("params.", StringComparison.Ordinal) ? name[7..] : null;

    public static readonly IReadOnlySet<string> Fixed = new HashSet<string> { "outputs", "trial.id", "trial.dir", "study.dir" };
}
