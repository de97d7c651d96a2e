using Tuning.Algorithms.Models;
using Tuning.Algorithms.Numerics;

namespace Tuning.Algorithms.Acquisition;

/// <summary>A model of one constraint: its excess (at most 0 where it holds), standardised, and the threshold 0 in the same units.</summary>
public sealed record ConstraintModel(GaussianProcess Model, double Threshold);

/// <summary>
/// An acquisition in log space times the probability that every constraint holds (Gardner et al. 2014): log a(x) +
/// Σ log P(excess_c(x) ≤ 0), each constraint its own GP. Without an acquisition (no trial feasible yet), the
/// probability of feasibility alone: the search first finds the feasible region.
/// </summary>
public sealed class FeasibilityWeighted(IAcquisition? acquisition, IReadOnlyList<ConstraintModel> constraints) : IAcquisition
{
    public double Value(ReadOnlySpan<double> point)
    {
        var value = acquisition?.Value(point) ?? 0;
        foreach (var constraint in constraints)
        {
            var (mean, variance) = constraint.Model.Predict(point);
            value += NormalMath.LogCdf((constraint.Threshold - mean) / Math.Sqrt(variance));
        }
        return value;
    }

    public void Values(IReadOnlyList<double[]> points, Span<double> values)
    {
        if (acquisition is null) values.Clear();
        else acquisition.Values(points, values);
        var means = new double[points.Count];
        var variances = new double[points.Count];
        foreach (var constraint in constraints)
        {
            constraint.Model.Predict(points, means, variances);
            for (var i = 0; i < values.Length; i++) values[i] += NormalMath.LogCdf((constraint.Threshold - means[i]) / Math.Sqrt(variances[i]));
        }
    }

    public double Value(ReadOnlySpan<double> point, Span<double> gradient)
    {
        var value = 0.0;
        if (acquisition is null) gradient.Clear();
        else value = acquisition.Value(point, gradient);
        Span<double> meanGradient = stackalloc double[point.Length];
        Span<double> varianceGradient = stackalloc double[point.Length];
        foreach (var constraint in constraints)
        {
            var (mean, variance) = constraint.Model.Predict(point, meanGradient, varianceGradient);
            var sd = Math.Sqrt(variance);
            var z = (constraint.Threshold - mean) / sd;
            var logCdf = NormalMath.LogCdf(z);
            // d log Φ(z)/dz = φ(z)/Φ(z);  z = (t − μ)/σ:  ∂z/∂x = −(∂μ/∂x)/σ − z·(∂σ²/∂x)/(2σ²).
            var ratio = Math.Exp(-0.5 * z * z - 0.5 * Math.Log(2 * Math.PI) - logCdf);
            for (var j = 0; j < point.Length; j++)
                gradient[j] += ratio * (-meanGradient[j] / sd - z * varianceGradient[j] / (2 * variance));
            value += logCdf;
        }
        return value;
    }
}
