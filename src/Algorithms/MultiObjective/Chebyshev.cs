namespace Tuning.Algorithms.MultiObjective;

/// <summary>
/// ParEGO's random augmented Chebyshev scalarisation (Knowles 2006): several losses become one, a different one per
/// suggestion, so a single-objective model chasing each in turn spreads its trials along the whole front.
/// </summary>
public static class Chebyshev
{
    /// <summary>The weight of the sum beside the maximum, which keeps weakly dominated points from scoring as well as the points dominating them.</summary>
    public const double Augmentation = 0.05;

    /// <summary>Weights drawn uniformly from the simplex (normalised exponential draws).</summary>
    public static double[] RandomWeights(int objectives, Random random)
    {
        var weights = Enumerable.Range(0, objectives).Select(_ => -Math.Log(1 - random.NextDouble())).ToArray();
        var sum = weights.Sum();
        return weights.Select(w => w / sum).ToArray();
    }

    /// <summary>
    /// Each point's max_k w_k·f_k + ρ·Σ_k w_k·f_k, each objective first scaled to [0, 1] over the points (an objective
    /// on which all agree scales to 0), so no objective outweighs another by its units.
    /// </summary>
    public static double[] Scalarise(IReadOnlyList<IReadOnlyList<double>> losses, IReadOnlyList<double> weights)
    {
        var objectives = weights.Count;
        var low = Enumerable.Range(0, objectives).Select(k => losses.Min(l => l[k])).ToArray();
        var span = Enumerable.Range(0, objectives).Select(k => losses.Max(l => l[k]) - low[k]).ToArray();
        return losses.Select(l =>
        {
            var scaled = Enumerable.Range(0, objectives).Select(k => weights[k] * (span[k] > 0 ? (l[k] - low[k]) / span[k] : 0)).ToArray();
            return scaled.Max() + Augmentation * scaled.Sum();
        }).ToArray();
    }
}
