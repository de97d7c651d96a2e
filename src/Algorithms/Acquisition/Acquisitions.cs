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

/// <summary>
/// Log noisy expected improvement (Letham et al., "Constrained Bayesian optimization with noisy experiments", 2019;
/// BoTorch's qLogNEI, Ament et al. 2023): log EI averaged over what the evaluated points may truly be worth. Plain
/// EI's incumbent is the lowest observed value, and where observations carry noise (or the model reads part of the
/// data as noise) that value is a lucky draw below anything the model believes: EI is then negligible everywhere
/// except where the variance is largest, at the bounds and corners, and the search piles its trials there.
/// Here the latent values at the baseline B (the evaluated points that may be the best) are drawn from their joint
/// posterior; for each draw the candidate's value, conditioned on that draw, is compared with the draw's minimum by
/// analytic EI; the result is the log of the mean over draws. Conditioning keeps the candidate's correlation with the
/// baseline: next to an evaluated point there is little to gain beyond what that point is already believed to be.
/// Without noise the draws agree with the observations and this is LogEI.
/// </summary>
public sealed class LogNoisyExpectedImprovement : IAcquisition
{
    private readonly GaussianProcess _model;
    private readonly IReadOnlyList<double[]> _baseline;
    private readonly double[][] _weights;      // K⁻¹k(X, b) per baseline point
    private readonly double[] _inverse;        // Σ_B⁻¹, m × m
    private readonly double[][] _directions;   // C⁻ᵀz per draw: the conditional mean moves by cᵀ·this
    private readonly double[] _incumbents;     // min over B of each draw

    /// <param name="baseline">The evaluated points that may be the best (a handful: those with the lowest posterior means).</param>
    public LogNoisyExpectedImprovement(GaussianProcess model, IReadOnlyList<double[]> baseline, int samples, Random random)
    {
        _model = model;
        _baseline = baseline;
        var m = baseline.Count;
        var means = new double[m];
        model.Predict(baseline, means, new double[m]);
        // Symmetric, so row-major is column-major. Evaluated points of a noiseless model are all but certain: the
        // jitter (the GP's own noise floor) keeps their covariance factorisable and its inverse tame.
        var covariance = model.Covariance(baseline);
        for (var b = 0; b < m; b++) covariance[b * m + b] = Math.Max(covariance[b * m + b], 0) + GaussianProcess.NoiseFloor;
        var factor = CholeskyFactor.Compute(covariance, m);
        _inverse = factor.Inverse();
        _weights = model.BaselineWeights(baseline);
        _directions = new double[samples][];
        _incumbents = new double[samples];
        for (var s = 0; s < samples; s++)
        {
            var z = new double[m];
            for (var b = 0; b < m; b++) z[b] = GpPriors.Gaussian(random);
            var draw = factor.Multiply(z);
            var best = double.PositiveInfinity;
            for (var b = 0; b < m; b++) best = Math.Min(best, means[b] + draw[b]);
            _incumbents[s] = best;
            factor.BackSubstitute(z);
            _directions[s] = z;
        }
    }

    public double Value(ReadOnlySpan<double> point)
    {
        var (mean, variance) = _model.Predict(point);
        return Value(point, mean, variance, default, default, default);
    }

    public void Values(IReadOnlyList<double[]> points, Span<double> values)
    {
        var variances = new double[points.Count];
        _model.Predict(points, values, variances);
        for (var i = 0; i < values.Length; i++) values[i] = Value(points[i], values[i], variances[i], default, default, default);
    }

    public double Value(ReadOnlySpan<double> point, Span<double> gradient)
    {
        Span<double> meanGradient = stackalloc double[point.Length];
        Span<double> varianceGradient = stackalloc double[point.Length];
        var (mean, variance) = _model.Predict(point, meanGradient, varianceGradient);
        return Value(point, mean, variance, meanGradient, varianceGradient, gradient);
    }

    private double Value(ReadOnlySpan<double> point, double mean, double variance, ReadOnlySpan<double> meanGradient,
        ReadOnlySpan<double> varianceGradient, Span<double> gradient)
    {
        var m = _baseline.Count;
        var d = point.Length;
        var withGradient = !gradient.IsEmpty;
        Span<double> c = stackalloc double[m];
        var jacobian = withGradient ? new double[m * d] : [];
        _model.CrossCovariance(point, _baseline, _weights, c, jacobian);
        Span<double> q = stackalloc double[m]; // Σ_B⁻¹c
        for (var b = 0; b < m; b++) q[b] = VectorMath.Dot(_inverse.AsSpan(b * m, m), c);
        var conditional = Math.Max(variance - VectorMath.Dot(c, q), 1e-12);
        var sd = Math.Sqrt(conditional);

        var samples = _incumbents.Length;
        Span<double> logs = samples <= 256 ? stackalloc double[samples] : new double[samples];
        Span<double> shifts = samples <= 256 ? stackalloc double[samples] : new double[samples];
        var top = double.NegativeInfinity;
        for (var s = 0; s < samples; s++)
        {
            shifts[s] = VectorMath.Dot(c, _directions[s]);
            top = Math.Max(top, logs[s] = LogExpectedImprovement.Compute(mean + shifts[s], sd, _incumbents[s]));
        }
        var sum = 0.0;
        for (var s = 0; s < samples; s++) sum += Math.Exp(logs[s] - top);
        if (withGradient)
        {
            // Each draw's LogEI partials in its conditional mean and in σ (as in LogExpectedImprovement), weighted by its
            // share of the sum; the conditional mean is μ + cᵀC⁻ᵀz and the conditional variance σ² − cᵀΣ⁻¹c.
            var byMean = 0.0;
            var bySd = 0.0;
            Span<double> byCovariance = stackalloc double[m];
            byCovariance.Clear();
            for (var s = 0; s < samples; s++)
            {
                var weight = Math.Exp(logs[s] - top) / sum;
                var z = (_incumbents[s] - mean - shifts[s]) / sd;
                var ratio = NormalMath.LogHDerivative(z);
                var meanPartial = weight * -ratio / sd;
                byMean += meanPartial;
                bySd += weight * (1 - z * ratio) / sd;
                VectorMath.Axpy(meanPartial, _directions[s], byCovariance);
            }
            // ∂σ_c/∂c = −Σ⁻¹c/σ_c: fold it into the partials in c.
            VectorMath.Axpy(-bySd / sd, q, byCovariance);
            for (var j = 0; j < d; j++)
            {
                var value = byMean * meanGradient[j] + bySd * varianceGradient[j] / (2 * sd);
                for (var b = 0; b < m; b++) value += byCovariance[b] * jacobian[b * d + j];
                gradient[j] = value;
            }
        }
        return top + Math.Log(sum / samples);
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
