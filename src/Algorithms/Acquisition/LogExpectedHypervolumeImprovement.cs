using Tuning.Algorithms.Models;
using Tuning.Algorithms.Numerics;

namespace Tuning.Algorithms.Acquisition;

/// <summary>
/// The region a front leaves to improve on, bounded by the reference point, cut into boxes (every objective minimised):
/// a grid over the first M − 1 objectives from the front's coordinates, and in each cell of it one box in the last
/// objective, from −∞ up to the lowest last coordinate among the front's points that dominate the cell (the reference
/// where none does). A point y then improves the hypervolume by Σ_boxes Π_k (upper_k − max(lower_k, y_k))⁺, which
/// for independent normal objectives has an exact expectation, box by box and objective by objective. The cells
/// number (n + 1)^(M − 1) for a front of n points: a few thousand with 3 objectives, which is why 4 stay with ParEGO.
/// </summary>
public sealed class NonDominatedBoxes
{
    /// <summary>Per objective but the last, the grid's interval bounds: interval i is [Bounds[k][i], Bounds[k][i + 1]], the first from −∞.</summary>
    public double[][] Bounds { get; }

    /// <summary>The distinct upper bounds of the boxes in the last objective.</summary>
    public double[] Uppers { get; }

    /// <summary>Per box: its interval in each objective but the last, then the index of its upper bound in <see cref="Uppers"/>.</summary>
    public int[][] Boxes { get; }

    public int Objectives => Bounds.Length + 1;

    public NonDominatedBoxes(IReadOnlyList<IReadOnlyList<double>> front, IReadOnlyList<double> reference)
    {
        var m = reference.Count;
        // Points not below the reference in every objective dominate nothing inside the box.
        var inside = front.Where(p => Enumerable.Range(0, m).All(k => p[k] < reference[k])).ToArray();
        Bounds = Enumerable.Range(0, m - 1).Select(k =>
            inside.Select(p => p[k]).Distinct().Order().Prepend(double.NegativeInfinity).Append(reference[k]).ToArray()).ToArray();
        var uppers = new SortedSet<double>();
        var boxes = new List<(int[] Cell, double Upper)>();
        foreach (var cell in Cells(Bounds.Select(b => b.Length - 1).ToArray()))
        {
            var upper = reference[m - 1];
            foreach (var p in inside)
                if (Enumerable.Range(0, m - 1).All(k => p[k] <= Bounds[k][cell[k]])) upper = Math.Min(upper, p[m - 1]);
            boxes.Add((cell, upper));
            uppers.Add(upper);
        }
        Uppers = [.. uppers];
        Boxes = boxes.Select(b => (int[])[.. b.Cell, Array.BinarySearch(Uppers, b.Upper)]).ToArray();
    }

    /// <summary>Every combination of interval indices, the first objective's slowest.</summary>
    private static IEnumerable<int[]> Cells(int[] counts)
    {
        var cell = new int[counts.Length];
        while (true)
        {
            yield return (int[])cell.Clone();
            var k = counts.Length - 1;
            while (k >= 0 && ++cell[k] == counts[k]) cell[k--] = 0;
            if (k < 0) yield break;
        }
    }

    /// <summary>The hypervolume <paramref name="point"/> adds to the front: exact, the boxes' volume above it.</summary>
    public double Improvement(IReadOnlyList<double> point)
    {
        var total = 0.0;
        foreach (var box in Boxes)
        {
            var volume = Math.Max(0, Uppers[box[^1]] - point[^1]);
            for (var k = 0; k < Bounds.Length && volume > 0; k++)
                volume *= Math.Max(0, Bounds[k][box[k] + 1] - Math.Max(Bounds[k][box[k]], point[k]));
            total += volume;
        }
        return total;
    }
}

/// <summary>
/// The logarithm of the expected hypervolume improvement (EHVI; Emmerich et al. 2006, Yang et al. 2019) of a candidate
/// whose objectives are independent GPs, over a front taken from the models' posterior means at the evaluated points
/// (as BoTorch's qNEHVI takes its front from the posterior rather than the noisy observations, here at its mean). With
/// Y_k ~ N(μ_k, σ_k²) and ψ_k(a) = E[(a − Y_k)⁺] = σ_k·h((a − μ_k)/σ_k), a box [l, u] contributes
/// Π_k (ψ_k(u_k) − ψ_k(l_k)), exactly. The boxes' products are summed scaled by each objective's largest factor, and
/// where that sum underflows (far from the front, where a plain EHVI would be 0 and flat) box by box in log space
/// (log h, log1mexp, log-sum-exp), so the logarithm still slopes towards the front, as
/// Ament et al.'s qLogNEHVI does. Exact, so there are no Monte Carlo draws to hold fixed between candidates.
/// </summary>
public sealed class LogExpectedHypervolumeImprovement : IAcquisition
{
    private readonly GaussianProcess[] _models;
    private readonly NonDominatedBoxes _boxes;

    /// <param name="models">A model per objective, in the units of <paramref name="boxes"/>.</param>
    public LogExpectedHypervolumeImprovement(IReadOnlyList<GaussianProcess> models, NonDominatedBoxes boxes)
    {
        if (models.Count != boxes.Objectives) throw new ArgumentException($"{models.Count} models for {boxes.Objectives} objectives");
        _models = [.. models];
        _boxes = boxes;
    }

    /// <summary>log EHVI over <paramref name="boxes"/> for objectives distributed as N(<paramref name="means"/>, <paramref name="sds"/>²), independently.</summary>
    public static double Compute(NonDominatedBoxes boxes, ReadOnlySpan<double> means, ReadOnlySpan<double> sds) => Compute(boxes, means, sds, null, null);

    public double Value(ReadOnlySpan<double> point)
    {
        Span<double> means = stackalloc double[_models.Length];
        Span<double> sds = stackalloc double[_models.Length];
        for (var k = 0; k < _models.Length; k++)
        {
            var (mean, variance) = _models[k].Predict(point);
            (means[k], sds[k]) = (mean, Math.Sqrt(variance));
        }
        return Compute(_boxes, means, sds);
    }

    public void Values(IReadOnlyList<double[]> points, Span<double> values)
    {
        var means = new double[_models.Length][];
        var variances = new double[_models.Length][];
        for (var k = 0; k < _models.Length; k++)
        {
            (means[k], variances[k]) = (new double[points.Count], new double[points.Count]);
            _models[k].Predict(points, means[k], variances[k]);
        }
        Span<double> mean = stackalloc double[_models.Length];
        Span<double> sd = stackalloc double[_models.Length];
        for (var i = 0; i < values.Length; i++)
        {
            for (var k = 0; k < _models.Length; k++) (mean[k], sd[k]) = (means[k][i], Math.Sqrt(variances[k][i]));
            values[i] = Compute(_boxes, mean, sd);
        }
    }

    public double Value(ReadOnlySpan<double> point, Span<double> gradient)
    {
        var m = _models.Length;
        var means = new double[m];
        var sds = new double[m];
        var meanGradients = new double[m][];
        var varianceGradients = new double[m][];
        for (var k = 0; k < m; k++)
        {
            (meanGradients[k], varianceGradients[k]) = (new double[point.Length], new double[point.Length]);
            var (mean, variance) = _models[k].Predict(point, meanGradients[k], varianceGradients[k]);
            (means[k], sds[k]) = (mean, Math.Sqrt(variance));
        }
        var byMean = new double[m];
        var bySd = new double[m];
        var value = Compute(_boxes, means, sds, byMean, bySd);
        gradient.Clear();
        for (var k = 0; k < m; k++)
            for (var j = 0; j < point.Length; j++)
                gradient[j] += byMean[k] * meanGradients[k][j] + bySd[k] * varianceGradients[k][j] / (2 * sds[k]);
        return value;
    }

    /// <summary>
    /// log EHVI and, where <paramref name="byMean"/> is given, its derivatives by each objective's mean and sd: the
    /// boxes' softmax weights times the derivatives of each factor's log, ∂ψ/∂μ = −Φ(z), ∂ψ/∂σ = φ(z).
    /// </summary>
    private static double Compute(NonDominatedBoxes boxes, ReadOnlySpan<double> means, ReadOnlySpan<double> sds, double[]? byMean, double[]? bySd)
    {
        var m = boxes.Objectives;
        // The log of each factor: per interval for the grid's objectives, per upper bound for the last.
        var logFactors = new double[m][];
        for (var k = 0; k < m - 1; k++)
        {
            var bounds = boxes.Bounds[k];
            logFactors[k] = new double[bounds.Length - 1];
            for (var i = 0; i < bounds.Length - 1; i++)
                logFactors[k][i] = LogPsiDifference(bounds[i + 1], bounds[i], means[k], sds[k]);
        }
        logFactors[m - 1] = new double[boxes.Uppers.Length];
        for (var i = 0; i < boxes.Uppers.Length; i++)
            logFactors[m - 1][i] = LogPsiDifference(boxes.Uppers[i], double.NegativeInfinity, means[m - 1], sds[m - 1]);

        var shares = byMean is null || bySd is null ? null : new double[boxes.Boxes.Length];
        var value = LogSum(boxes, logFactors, shares);
        if (byMean is null || bySd is null || shares is null || double.IsNegativeInfinity(value)) return value;

        // Each factor's share of the boxes' weight, then its log-derivatives.
        var weights = logFactors.Select(f => new double[f.Length]).ToArray();
        for (var b = 0; b < shares.Length; b++)
            for (var k = 0; k < m; k++) weights[k][boxes.Boxes[b][k]] += shares[b];
        for (var k = 0; k < m; k++)
        {
            var (mean, sd) = (means[k], sds[k]);
            (byMean[k], bySd[k]) = (0, 0);
            for (var i = 0; i < weights[k].Length; i++)
            {
                if (weights[k][i] == 0) continue;
                var (upper, lower) = k < m - 1 ? (boxes.Bounds[k][i + 1], boxes.Bounds[k][i]) : (boxes.Uppers[i], double.NegativeInfinity);
                var (zUpper, zLower) = ((upper - mean) / sd, (lower - mean) / sd);
                // ∂ log(ψ(u) − ψ(l)) / ∂μ = −(Φ(z_u) − Φ(z_l)) / (ψ(u) − ψ(l)); ∂/∂σ = (φ(z_u) − φ(z_l)) / (ψ(u) − ψ(l)).
                byMean[k] -= weights[k][i] * Math.Exp(LogCdfDifference(zUpper, zLower) - logFactors[k][i]);
                bySd[k] += weights[k][i] * PdfDifferenceOver(zUpper, zLower, logFactors[k][i]);
            }
        }
        return value;
    }

    /// <summary>Below this the scaled sum of <see cref="LogSum"/> has lost too much to underflow, and the boxes are summed in log space.</summary>
    private const double LeastScaledSum = 1e-200;

    /// <summary>
    /// log Σ_boxes exp(Σ_k logFactors[k][box_k]), and into <paramref name="shares"/> (where given) each box's share of
    /// the sum. Each objective's factors are first scaled by their largest, so the sum takes a product per box and no
    /// exponential: with 3 objectives and a front of 60 points that is 3,700 boxes per candidate. Far from the front
    /// the boxes that count need not hold each objective's largest factor, the scaled sum underflows, and the boxes
    /// are summed in log space instead.
    /// </summary>
    private static double LogSum(NonDominatedBoxes boxes, double[][] logFactors, double[]? shares)
    {
        var m = logFactors.Length;
        var shift = 0.0;
        var scaled = new double[m][];
        for (var k = 0; k < m; k++)
        {
            var top = logFactors[k].Max();
            if (double.IsNegativeInfinity(top)) return top;
            shift += top;
            scaled[k] = logFactors[k].Select(f => Math.Exp(f - top)).ToArray();
        }
        var total = 0.0;
        for (var b = 0; b < boxes.Boxes.Length; b++)
        {
            var box = boxes.Boxes[b];
            var product = scaled[0][box[0]];
            for (var k = 1; k < m; k++) product *= scaled[k][box[k]];
            if (shares is not null) shares[b] = product;
            total += product;
        }
        if (total > LeastScaledSum)
        {
            if (shares is not null)
                for (var b = 0; b < shares.Length; b++) shares[b] /= total;
            return shift + Math.Log(total);
        }

        var logTerms = new double[boxes.Boxes.Length];
        var largest = double.NegativeInfinity;
        for (var b = 0; b < logTerms.Length; b++)
        {
            var box = boxes.Boxes[b];
            var sum = 0.0;
            for (var k = 0; k < m; k++) sum += logFactors[k][box[k]];
            logTerms[b] = sum;
            largest = Math.Max(largest, sum);
        }
        if (double.IsNegativeInfinity(largest)) return largest;
        var sumOfTerms = 0.0;
        for (var b = 0; b < logTerms.Length; b++) sumOfTerms += Math.Exp(logTerms[b] - largest);
        var value = largest + Math.Log(sumOfTerms);
        if (shares is not null)
            for (var b = 0; b < shares.Length; b++) shares[b] = Math.Exp(logTerms[b] - value);
        return value;
    }

    /// <summary>log(ψ(u) − ψ(l)), ψ(a) = σ·h((a − μ)/σ): the expected length of [l, u] above Y ~ N(μ, σ²).</summary>
    private static double LogPsiDifference(double upper, double lower, double mean, double sd)
    {
        var logUpper = Math.Log(sd) + NormalMath.LogH((upper - mean) / sd);
        if (double.IsNegativeInfinity(lower)) return logUpper;
        var logLower = Math.Log(sd) + NormalMath.LogH((lower - mean) / sd);
        return logUpper + NormalMath.Log1MinusExp(Math.Min(0, logLower - logUpper));
    }

    /// <summary>(φ(u) − φ(l)) / exp(<paramref name="logDivisor"/>), through logs: far from the front both underflow.</summary>
    private static double PdfDifferenceOver(double upper, double lower, double logDivisor)
    {
        var (logUpper, logLower) = (-0.5 * upper * upper, -0.5 * lower * lower);
        var (large, small, sign) = logUpper >= logLower ? (logUpper, logLower, 1) : (logLower, logUpper, -1);
        return sign * Math.Exp(large - 0.5 * Math.Log(2 * Math.PI) + NormalMath.Log1MinusExp(Math.Min(0, small - large)) - logDivisor);
    }

    /// <summary>log(Φ(u) − Φ(l)) for l &lt; u, from whichever tail keeps the difference accurate.</summary>
    private static double LogCdfDifference(double upper, double lower) => lower > 0
        ? NormalMath.LogCdf(-lower) + NormalMath.Log1MinusExp(Math.Min(0, NormalMath.LogCdf(-upper) - NormalMath.LogCdf(-lower)))
        : NormalMath.LogCdf(upper) + NormalMath.Log1MinusExp(Math.Min(0, NormalMath.LogCdf(lower) - NormalMath.LogCdf(upper)));
}
