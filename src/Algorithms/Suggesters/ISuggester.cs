using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>A finished trial as a suggester sees it: its parameters and its objective, always to be minimised.</summary>
/// <param name="Loss">The objective in minimisation form (negated for maximise goals); null where the trial failed.
/// With several objectives, the first.</param>
/// <param name="StoppedAt">
/// Set for a trial stopped early: the highest step it reported (0 where it reported none), and <paramref name="Loss"/> is
/// its last value, from a shorter run than a finished trial's. Null for a trial that ran to its end (or failed).
/// </param>
/// <param name="Curve">The objective's intermediate values as losses, where the trial reported any.</param>
/// <param name="Losses">With several objectives (or constraints), every objective in minimisation form, in the study
/// file's order; null where the trial failed, and in a study of one unconstrained objective.</param>
/// <param name="Excesses">Per constraint of the study, how far the trial's metric lies beyond its bound: at most 0 where
/// the constraint holds, positive infinity where the metric is missing; null in a study without constraints.</param>
public sealed record Observation(
    IReadOnlyDictionary<string, ParameterValue> Parameters, double? Loss, long? StoppedAt = null, IReadOnlyList<CurvePoint>? Curve = null,
    IReadOnlyList<double>? Losses = null, IReadOnlyList<double>? Excesses = null)
{
    /// <summary>How far the trial breaks the constraints, summed over them: 0 where it is feasible (or the study has none).</summary>
    public double Violation => Excesses?.Sum(e => Math.Max(0, e)) ?? 0;

    /// <summary>Every objective as a loss: <see cref="Losses"/>, or the one <see cref="Loss"/>; null where the trial failed.</summary>
    public IReadOnlyList<double>? Objectives => Losses ?? (Loss is { } loss ? [loss] : null);

    /// <summary>
    /// The observations with a value of every objective: in a study of several, those with <see cref="Losses"/> (a warm
    /// start's trials carry the first objective alone and are left out), in a study of one, every finished one.
    /// </summary>
    public static Observation[] WithEveryObjective(IReadOnlyList<Observation> observations) =>
        observations.Any(o => o.Losses is not null)
            ? observations.Where(o => o.Losses is not null).ToArray()
            : observations.Where(o => o.Loss is not null).ToArray();
}

/// <summary>What a suggester knows when it is asked for the parameters of trial <c>TrialNumber</c>.</summary>
/// <param name="Completed">Finished trials: first the warm start's (an earlier study's, in its file's order), then this
/// study's in trial-number order.</param>
/// <param name="Pending">Parameters of trials that run now and have no result yet.</param>
/// <param name="WarmStarted">How many of <paramref name="Completed"/>, from the first, are a warm start's observations
/// rather than trials of this study: they count towards a start-up phase as this study's own finished trials do.</param>
/// <param name="References">With several objectives, each objective's coordinate of the hypervolume reference point as
/// a loss (negated for a maximise goal) where the study file gives one (<c>objectives[i].reference</c>), else null:
/// the volume bayesian's expected hypervolume improvement aims at is then the one the study reports.</param>
public sealed record SuggestionContext(
    int TrialNumber,
    IReadOnlyList<Observation> Completed,
    IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> Pending,
    int WarmStarted = 0,
    IReadOnlyList<double?>? References = null);

/// <summary>
/// Proposes the parameters of the next trial. Implementations are deterministic: the same seed and the same
/// context give the same suggestion, so a resumed study continues as it would have.
/// </summary>
public interface ISuggester
{
    /// <summary>The next parameter set, or null when the search space is exhausted.</summary>
    IReadOnlyDictionary<string, ParameterValue>? Suggest(SuggestionContext context);
}

/// <summary>Seeds derived from the study seed and the trial number, so a suggestion never depends on call order.</summary>
public static class Seeds
{
    public static int ForTrial(int studySeed, int trialNumber)
    {
        // SplitMix64 finaliser: neighbouring trial numbers get unrelated streams.
        var z = unchecked((ulong)(uint)studySeed << 32 | (uint)trialNumber) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }
}
