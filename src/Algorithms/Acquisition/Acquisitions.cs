using Tuning.Algorithms.Models;
using Tuning.Algorithms.Numerics;

namespace Tuning.Algorithms.Acquisition;

/// <summary>Scores a point by how much a model says it is worth evaluating; higher is better.</summary>
public interface IAcquisition
{
    double Value(ReadOnlySpan<double> point);

    /// <summary>The values at many points, in one batch through the model.</summary>
    void Values(IReadOnlyList<double[]> points, Span<double> values);

    /// <summary>The value and its gradient with respect to the point.</summary>
    double Value(ReadOnlySpan<double> point, Span<double> gradient);
}

/// <summary>
/// The logarithm of expected improvement below the best observed value (for minimisation), computed with
/// <see cref="NormalMath.LogH"/> so that it stays finite and informative where EI itself underflows to 0
/// (Ament et al., NeurIPS 2023). Flat zero EI regions stall gradient ascent; LogEI does not.
/// </summary>
public sealed class LogExpectedImprovement(GaussianProcess model, double best) : IAcquisition
{
    public static double Compute(double mean, double sd, double best) => Math.Log(sd) + NormalMath.LogH((best - mean) / sd);

    public double Value(ReadOnlySpan<double> point)
    {
        var (mean, variance) = model.Predict(point);
        return Compute(mean, Math.Sqrt(variance), best);
    }

    public void Values(IReadOnlyList<double[]> points, Span<double> values)
    {
        var variances = new double[points.Count];
        model.Predict(points, values, variances);
        for (var i = 0; i < values.Length; i++) values[i] = Compute(values[i], Math.Sqrt(variances[i]), best);
    }

    public double Value(ReadOnlySpan<double> point, Span<double> gradient)
    {
        Span<double> meanGradient = stackalloc double[point.Length];
        Span<double> varianceGradient = stackalloc double[point.Length];
        var (mean, variance) = model.Predict(point, meanGradient, varianceGradient);
        var sd = Math.Sqrt(variance);
        var z = (best - mean) / sd;
        var ratio = NormalMath.LogHDerivative(z);
        // log EI = log σ + log h(z), z = (best − μ)/σ:  ∂/∂μ = −ratio/σ,  ∂/∂σ = (1 − z·ratio)/σ,  ∂σ/∂x = (∂σ²/∂x)/(2σ).
        var byMean = -ratio / sd;
        var bySd = (1 - z * ratio) / sd;
        for (var j = 0; j < point.Length; j++)
            gradient[j] = byMean * meanGradient[j] + bySd * varianceGradient[j] / (2 * sd);
        return Math.Log(sd) + NormalMath.LogH(z);
    }
}

/// <summary>The lower confidence bound for minimisation, negated so that higher is better: −(μ − √β·σ).</summary>
public sealed class UpperConfidenceBound(GaussianProcess model, double beta) : IAcquisition
{
    private readonly double _weight = Math.Sqrt(beta);

    public double Value(ReadOnlySpan<double> point)
    {
        var (mean, variance) = model.Predict(point);
        return -mean + _weight * Math.Sqrt(variance);
    }

    public void Values(IReadOnlyList<double[]> points, Span<double> values)
    {
        var variances = new double[points.Count];
        model.Predict(points, values, variances);
        for (var i = 0; i < values.Length; i++) values[i] = -values[i] + _weight * Math.Sqrt(variances[i]);
    }

    public double Value(ReadOnlySpan<double> point, Span<double> gradient)
    {
        Span<double> meanGradient = stackalloc double[point.Length];
        Span<double> varianceGradient = stackalloc double[point.Length];
        var (mean, variance) = model.Predict(point, meanGradient, varianceGradient);
        var sd = Math.Sqrt(variance);
        for (var j = 0; j < point.Length; j++)
            gradient[j] = -meanGradient[j] + _weight * varianceGradient[j] / (2 * sd);
        return -mean + _weight * sd;
    }
}

/// <summary>
/// Maximises an acquisition over a box: scores many raw candidates (quasi-random plus points near the
/// incumbents), then runs L-BFGS from the best few, as BoTorch's optimize_acqf does with raw samples and restarts.
/// </summary>
public static class AcquisitionOptimizer
{
    /// <summary>The candidates ranked best first after local search; the caller takes the first it can use.</summary>
    /// <param name="fixedDimensions">Dimensions local search must not move (categorical indices).</param>
    public static IReadOnlyList<(double[] Point, double Value)> Maximize(
        IAcquisition acquisition, IReadOnlyList<double[]> candidates, bool[] fixedDimensions, double[] upper, int localStarts)
    {
        var values = new double[candidates.Count];
        acquisition.Values(candidates, values);
        var scored = candidates.Select((c, i) => (Point: c, Value: values[i]))
            .Where(c => double.IsFinite(c.Value))
            .OrderByDescending(c => c.Value)
            .ToList();
        // The starts are independent, so they run side by side; each result keeps its start's place, so the outcome
        // does not depend on which finishes first.
        var starts = scored.Take(localStarts).Select(s => s.Point).ToArray();
        var found = new (double[] Point, double Value)[starts.Length];
        Parallel.For(0, starts.Length, s =>
        {
            var start = starts[s];
            var lower = new double[start.Length];
            var high = new double[start.Length];
            for (var j = 0; j < start.Length; j++)
            {
                lower[j] = fixedDimensions[j] ? start[j] : 0;
                high[j] = fixedDimensions[j] ? start[j] : upper[j];
            }
            // Log-acquisition changes below a millionth are no difference worth more evaluations.
            var minimum = Lbfgs.Minimize((x, gradient) =>
            {
                var value = acquisition.Value(x, gradient);
                for (var j = 0; j < gradient.Length; j++) gradient[j] = -gradient[j];
                return -value;
            }, start, lower, high, maxIterations: 40, gradientTolerance: 1e-7, relativeTolerance: 1e-6);
            found[s] = (minimum.X, -minimum.Value);
        });
        var results = found.ToList();
        results.AddRange(scored.Skip(localStarts));
        return results.OrderByDescending(r => r.Value).ToList();
    }
}
