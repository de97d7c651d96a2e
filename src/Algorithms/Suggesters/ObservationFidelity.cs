using Tuning.Algorithms.EarlyStopping;

namespace Tuning.Algorithms.Suggesters;

/// <summary>
/// Which observations a model of the objective is fitted on when some trials were stopped early, BOHB-style (Falkner,
/// Klein and Hutter, 2018): one fidelity at a time, the highest with enough observations, so a value after 3 epochs is
/// never modelled beside one after 52 as if they measured the same thing.
/// </summary>
public static class ObservationFidelity
{
    /// <summary>
    /// BOHB's threshold for modelling a budget: d + 1 points make the smallest model, and BOHB waits for two more.
    /// </summary>
    public static int Enough(int dimensions) => dimensions + 3;

    /// <summary>
    /// The observations to model, with finite losses: where no trial was stopped early, every one as it is. Otherwise
    /// the trials that ran to their end, once there are <see cref="Enough"/> of them; before that, at the highest step
    /// that many trials reached (the steps trials were stopped at are the candidates), each trial that got there valued
    /// where its curve reached that step, as asha values a rung. Trials below the chosen fidelity are left out, as BOHB
    /// leaves a lower budget out once a higher one has enough. Where no fidelity has enough, every trial at its last
    /// value: the model still learns where not to look.
    /// </summary>
    public static IReadOnlyList<Observation> Highest(IReadOnlyList<Observation> completed, int dimensions)
    {
        var finite = completed.Where(o => o.Loss is { } loss && double.IsFinite(loss)).ToArray();
        if (finite.All(o => o.StoppedAt is null)) return finite;
        var enough = Enough(dimensions);
        var finished = finite.Where(o => o.StoppedAt is null).ToArray();
        if (finished.Length >= enough) return finished;
        foreach (var step in finite.Select(o => o.StoppedAt).OfType<long>().Distinct().OrderDescending())
        {
            var reached = finite
                .Select(o => o.Curve is { Count: > 0 } points && new LearningCurve(0, points) is var curve && curve.LastStep >= step && curve.ReachedAt(step) is { } loss
                    ? o with { Loss = loss } : null)
                .OfType<Observation>().ToArray();
            if (reached.Length >= enough) return reached;
        }
        return finite;
    }
}
