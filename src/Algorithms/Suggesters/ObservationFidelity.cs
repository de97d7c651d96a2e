namespace Tuning.Algorithms.Suggesters;

/// <summary>
/// How far each observation had trained, where some trials were stopped early: the fidelity the bayesian suggester
/// models as one more input, so a value after 3 epochs is never read as if it were one after 52 and yet every trial
/// informs the model (MOBSTER's product kernel over the configuration and the resource, Klein et al. 2020; Syne Tune's
/// <c>matern52-product</c>). Measured on LCBench (experiments/results/2026-12-05-lcbench-3.md) against BOHB's choice
/// of one fidelity with enough trials, which it replaces: with asha from step 3, nearer the best known on the five
/// tuning tasks' medians (167104: 1.83 against 3.28 points, 189906: 2.58 against 3.19).
/// </summary>
public static class ObservationFidelity
{
    /// <summary>
    /// The observations with finite losses and, where some trial was stopped early, each one's fidelity: a trial run to
    /// its end 1; one stopped at step s, log(1 + s) / log(1 + S), S the longest curve of a trial run to its end (before
    /// one has, the furthest step a stopped trial reached, so the model aims at the longest runs seen). A log scale,
    /// since learning curves change most in their first steps. Null fidelities where no trial was stopped: then the
    /// model is the plain one, as without early stopping.
    /// </summary>
    public static (Observation[] Observed, double[]? Fidelities) WithFidelity(IReadOnlyList<Observation> completed)
    {
        var finite = completed.Where(o => o.Loss is { } loss && double.IsFinite(loss)).ToArray();
        if (finite.All(o => o.StoppedAt is null)) return (finite, null);
        var longest = finite.Select(o => o.StoppedAt ?? (o.Curve is { Count: > 0 } curve ? curve[^1].Step : 0)).Max();
        var scale = Math.Log(1 + Math.Max(longest, 1));
        return (finite, finite.Select(o => o.StoppedAt is { } step ? Math.Min(1, Math.Log(1 + Math.Max(step, 0)) / scale) : 1).ToArray());
    }
}
