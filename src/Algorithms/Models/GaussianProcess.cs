using System.Runtime.CompilerServices;
using Tuning.Algorithms.Numerics;

namespace Tuning.Algorithms.Models;

/// <summary>
/// Kernel hyperparameters, all in log space: one lengthscale per input dimension, the signal variance, and
/// the noise variance (above <see cref="GaussianProcess.NoiseFloor"/>); and the kernel's form, product (ARD) or
/// <paramref name="Additive"/> (see <see cref="MaternKernel"/>).
/// </summary>
public sealed record GpHyperparameters(double[] LogLengthscales, double LogSignalVariance, double LogNoiseVariance, bool Additive = false)
{
    public double[] ToVector() => [.. LogLengthscales, LogSignalVariance, LogNoiseVariance];

    public static GpHyperparameters FromVector(ReadOnlySpan<double> v, bool additive = false) =>
        new(v[..^2].ToArray(), v[^2], v[^1], additive);
}

/// <summary>
/// Weak log-normal priors on the hyperparameters. The lengthscale prior grows with the dimension as in
/// Hvarfner et al., "Vanilla Bayesian optimization performs great in high dimensions" (ICML 2024), BoTorch's
/// default since 0.12: log ℓ ~ N(√2 + ½ log d, 3).
/// </summary>
public sealed record GpPriors(double LengthscaleMean, double LengthscaleSd, double SignalMean, double SignalSd, double NoiseMean, double NoiseSd)
{
    public static GpPriors ForDimensions(int d) => new(Math.Sqrt(2) + 0.5 * Math.Log(d), Math.Sqrt(3), 0, 1, -8, 2);

    public double[] Mode(int d) => [.. Enumerable.Repeat(LengthscaleMean, d), SignalMean, NoiseMean];

    public double[] Sample(int d, Random random) =>
    [
        .. Enumerable.Range(0, d).Select(_ => LengthscaleMean + LengthscaleSd * Gaussian(random)),
        SignalMean + SignalSd * Gaussian(random),
        NoiseMean + NoiseSd * Gaussian(random),
    ];

    /// <summary>A standard normal draw (Box-Muller).</summary>
    public static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Adds the negative log prior density (up to a constant) and its gradient.</summary>
    internal double AddNegativeLogPrior(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        var d = theta.Length - 2;
        var value = 0.0;
        for (var i = 0; i < theta.Length; i++)
        {
            var (mean, sd) = i < d ? (LengthscaleMean, LengthscaleSd) : i == d ? (SignalMean, SignalSd) : (NoiseMean, NoiseSd);
            var z = (theta[i] - mean) / sd;
            value += 0.5 * z * z;
            gradient[i] += z / sd;
        }
        return value;
    }
}

/// <summary>
/// A Gaussian process with a constant zero mean (fit it to standardised outputs) and a Matérn 5/2 kernel with
/// one lengthscale per dimension, in product or additive form (<see cref="MaternKernel"/>). Dimensions marked
/// categorical hold a category index and contribute an indicator distance (0 for the same category, 1 otherwise)
/// instead of a difference, so unordered choices are never read as near or far by their position in a list.
/// </summary>
public sealed class GaussianProcess
{
    /// <summary>The least noise variance the model assumes: duplicate points never make the kernel matrix singular.</summary>
    public const double NoiseFloor = 1e-6;

    /// <summary>
    /// The longest lengthscale bayesian's fits find with one objective and no trial stopped early, on the unit cube the
    /// inputs map to: twice its width (<see cref="Suggesters.BayesianSuggester.LengthscaleLimit"/>). The lengthscale
    /// prior's median is 7 widths in 3-D and 18 in 20-D (Hvarfner et al.), and where the results move little along a
    /// parameter the data never pull its lengthscale below that: the model is then close to linear along it, and a linear
    /// model's minimum is on a bound. On Hartmann3, whose optimum is 0.11 inside a bound that is 0.008 worse, 8 of 10
    /// held-out studies ended on that bound (regret 0.0079) with the old limit of 1,000 widths. Chosen among 1, 2 and 4 on
    /// seeds 0-9 of the 34 regret rows (bayesian): 2 better than the old limit by over 10% on 17 rows and worse on 8, the
    /// geometric mean of the median regrets 0.54 times the old limit's; 1 about as good on the mean (0.52) but worse on 10,
    /// Rosenbrock4 2.6 times; 4 only 0.74 times, worse on 14. On the held-out seeds 100-109, 2 gives 0.54 times, better on
    /// 21 rows of 32 and worse on 9 (experiments/results/2026-12-05-lengthscale-cap.md).
    /// </summary>
    public const double LengthscaleCap = 2;

    /// <summary>
    /// The limit of every other fit, as before <see cref="LengthscaleCap"/>: where a long lengthscale means what it says
    /// (a parameter's share of relevance, <see cref="ParameterImportance"/>; whether a recommendation's model learnt
    /// anything, <see cref="Recommendation"/>) or where the cap did worse or was not measured: the models of several
    /// objectives, of constraints, and of a study that stops trials early.
    /// </summary>
    public const double UncappedLengthscaleLimit = 1e3;


    private readonly double[][] _x;
    private readonly bool[] _categorical;
    private readonly MaternKernel _kernel;
    private readonly CholeskyFactor _cholesky;
    private readonly double[] _alpha; // K⁻¹ y

    private GaussianProcess(double[][] x, bool[] categorical, GpHyperparameters hyperparameters, MaternKernel kernel,
        CholeskyFactor cholesky, double[] alpha)
    {
        _x = x;
        _categorical = categorical;
        Hyperparameters = hyperparameters;
        _kernel = kernel;
        _cholesky = cholesky;
        _alpha = alpha;
    }

    public GpHyperparameters Hyperparameters { get; }

    public int Count => _x.Length;

    public int Dimensions => _categorical.Length;

    /// <summary>Conditions the process on the data with the given hyperparameters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static GaussianProcess Create(double[][] x, double[] y, bool[] categorical, GpHyperparameters hyperparameters)
    {
        var kernel = new MaternKernel(hyperparameters, categorical);
        var cholesky = Factorise(x, kernel, Noise(hyperparameters));
        return new GaussianProcess(x, categorical, hyperparameters, kernel, cholesky, cholesky.Solve(y));
    }

    private static double Noise(GpHyperparameters hyperparameters) => Math.Exp(hyperparameters.LogNoiseVariance) + NoiseFloor;

    private static CholeskyFactor Factorise(double[][] x, MaternKernel kernel, double noise)
    {
        var n = x.Length;
        var k = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            k[i * n + i] = kernel.Signal + noise;
            for (var j = i + 1; j < n; j++)
                k[j * n + i] = k[i * n + j] = kernel.Value(x[i], x[j]);
        }
        return CholeskyFactor.Compute(k, n);
    }

    /// <summary>Posterior means alone at the points: O(n) each, where a variance costs O(n²).</summary>
    public double[] Means(IReadOnlyList<double[]> points) => points.Select(point =>
    {
        var mean = 0.0;
        for (var i = 0; i < Count; i++)
            mean += _alpha[i] * _kernel.Value(point, _x[i]);
        return mean;
    }).ToArray();

    /// <summary>
    /// This process with the same hyperparameters conditioned on <paramref name="more"/> points as well, the factor
    /// bordered one point at a time (O(n²) each, where <see cref="Create"/> is O(n³)), and the weights solved for
    /// <paramref name="y"/>: the targets of every point, the old ones included, since restandardising moves them all.
    /// Bordering one point at a time, always, makes the result a function of the points alone, not of how many
    /// arrived per call.
    /// </summary>
    public GaussianProcess Extend(IReadOnlyList<double[]> more, double[] y)
    {
        var noise = Noise(Hyperparameters);
        var x = new List<double[]>(_x);
        var cholesky = _cholesky;
        foreach (var point in more)
        {
            var cross = new double[x.Count];
            for (var i = 0; i < cross.Length; i++)
                cross[i] = _kernel.Value(x[i], point);
            x.Add(point);
            // Where bordering fails (rounding ate the pivot), the points so far are factorised afresh and bordering goes
            // on from there: a fresh suggester meets the same failure at the same point and does the same.
            cholesky = cholesky.Extend(cross, _kernel.Signal + noise) ?? Factorise([.. x], _kernel, noise);
        }
        return new GaussianProcess([.. x], _categorical, Hyperparameters, _kernel, cholesky, cholesky.Solve(y));
    }

    /// <summary>The points the process is conditioned on, in order.</summary>
    public IReadOnlyList<double[]> Points => _x;

    /// <summary>Posterior mean and variance of the latent function at <paramref name="point"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (double Mean, double Variance) Predict(ReadOnlySpan<double> point)
    {
        var n = Count;
        Span<double> v = n <= 1024 ? stackalloc double[n] : new double[n];
        var mean = 0.0;
        for (var i = 0; i < n; i++)
        {
            v[i] = _kernel.Value(point, _x[i]);
            mean += v[i] * _alpha[i];
        }
        _cholesky.ForwardSubstitute(v);
        return (mean, Math.Max(_kernel.Signal - VectorMath.Dot(v, v), 1e-12));
    }

    /// <summary>
    /// Posterior means and variances at many points, as <see cref="Predict(ReadOnlySpan{double})"/> gives them one at a
    /// time, in blocks that share one pass over the factor (<see cref="CholeskyFactor.ForwardSubstituteMany"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Predict(IReadOnlyList<double[]> points, Span<double> means, Span<double> variances)
    {
        const int block = 32;
        var n = Count;
        var columns = new double[n * block];
        for (var start = 0; start < points.Count; start += block)
        {
            var m = Math.Min(block, points.Count - start);
            for (var c = 0; c < m; c++)
            {
                var point = points[start + c];
                var column = columns.AsSpan(c * n, n);
                var mean = 0.0;
                for (var i = 0; i < n; i++)
                {
                    column[i] = _kernel.Value(point, _x[i]);
                    mean += column[i] * _alpha[i];
                }
                means[start + c] = mean;
            }
            _cholesky.ForwardSubstituteMany(columns.AsSpan(0, n * m), m);
            for (var c = 0; c < m; c++)
            {
                var column = columns.AsSpan(c * n, n);
                variances[start + c] = Math.Max(_kernel.Signal - VectorMath.Dot(column, column), 1e-12);
            }
        }
    }

    /// <summary>The posterior covariance of the latent function at the points (row-major, m × m): K** − vᵢᵀvⱼ with v = L⁻¹k.</summary>
    public double[] Covariance(IReadOnlyList<double[]> points)
    {
        var n = Count;
        var m = points.Count;
        var v = new double[m][];
        for (var a = 0; a < m; a++)
        {
            v[a] = new double[n];
            for (var i = 0; i < n; i++)
                v[a][i] = _kernel.Value(points[a], _x[i]);
            _cholesky.ForwardSubstitute(v[a]);
        }
        var covariance = new double[m * m];
        for (var a = 0; a < m; a++)
            for (var b = a; b < m; b++)
                covariance[a * m + b] = covariance[b * m + a] =
                    _kernel.Value(points[a], points[b]) - VectorMath.Dot(v[a], v[b]);
        return covariance;
    }

    /// <summary>Posterior mean and variance with their gradients with respect to the point (zero along categorical dimensions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (double Mean, double Variance) Predict(ReadOnlySpan<double> point, Span<double> meanGradient, Span<double> varianceGradient)
    {
        var n = Count;
        var d = Dimensions;
        var width = _kernel.SlopeCount;
        Span<double> w = n <= 512 ? stackalloc double[n] : new double[n];
        Span<double> slopes = n * width <= 4096 ? stackalloc double[n * width] : new double[n * width];
        var inverse = _kernel.InverseSquaredLengthscales;
        var mean = 0.0;
        for (var i = 0; i < n; i++)
        {
            w[i] = _kernel.ValueAndSlopes(point, _x[i], slopes.Slice(i * width, width));
            mean += w[i] * _alpha[i];
        }
        _cholesky.ForwardSubstitute(w);
        var explained = VectorMath.Dot(w, w);
        _cholesky.BackSubstitute(w); // now K⁻¹·k
        meanGradient.Clear();
        varianceGradient.Clear();
        // ∂k/∂x_j as MaternKernel.Gradient gives it, written out here: the local search's hottest loop makes one pass.
        for (var i = 0; i < n; i++)
        {
            var row = _x[i];
            var rowSlopes = slopes.Slice(i * width, width);
            for (var j = 0; j < d; j++)
            {
                if (_categorical[j]) continue;
                var dk = rowSlopes[width == 1 ? 0 : j] * (point[j] - row[j]) * inverse[j];
                meanGradient[j] += _alpha[i] * dk;
                varianceGradient[j] -= 2 * w[i] * dk;
            }
        }
        return (mean, Math.Max(_kernel.Signal - explained, 1e-12));
    }

    /// <summary>K⁻¹·k(X, b) for each of the <paramref name="baseline"/> points, for <see cref="CrossCovariance"/>.</summary>
    public double[][] BaselineWeights(IReadOnlyList<double[]> baseline) => baseline.Select(b =>
    {
        var k = new double[Count];
        for (var i = 0; i < k.Length; i++) k[i] = _kernel.Value(b, _x[i]);
        return _cholesky.Solve(k);
    }).ToArray();

    /// <summary>
    /// The posterior covariance between the latent function at <paramref name="point"/> and at each baseline point,
    /// c_b = k(x, b) − k(x, X)·K⁻¹k(X, b), and where <paramref name="jacobian"/> is given (m × d, row per b) its
    /// derivatives in the point, zero along categorical dimensions.
    /// </summary>
    /// <param name="weights"><see cref="BaselineWeights"/> of the same baseline.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void CrossCovariance(ReadOnlySpan<double> point, IReadOnlyList<double[]> baseline, double[][] weights, Span<double> covariance, Span<double> jacobian)
    {
        var n = Count;
        var d = Dimensions;
        var m = baseline.Count;
        var withGradient = !jacobian.IsEmpty;
        Span<double> slopes = stackalloc double[_kernel.SlopeCount];
        Span<double> direction = stackalloc double[d];
        for (var b = 0; b < m; b++)
        {
            covariance[b] = _kernel.Value(point, baseline[b]);
            if (!withGradient) continue;
            _kernel.ValueAndSlopes(point, baseline[b], slopes);
            _kernel.Gradient(point, baseline[b], slopes, jacobian.Slice(b * d, d));
        }
        for (var i = 0; i < n; i++)
        {
            var k = _kernel.ValueAndSlopes(point, _x[i], slopes);
            for (var b = 0; b < m; b++) covariance[b] -= k * weights[b][i];
            if (!withGradient) continue;
            _kernel.Gradient(point, _x[i], slopes, direction);
            for (var b = 0; b < m; b++) VectorMath.Axpy(-weights[b][i], direction, jacobian.Slice(b * d, d));
        }
    }

    /// <summary>
    /// The negative log marginal likelihood plus the negative log prior, with its analytic gradient
    /// (Rasmussen and Williams, Gaussian Processes for Machine Learning, eq. 5.9), as a function of θ, for the
    /// product kernel or the <paramref name="additive"/> one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double NegativeLogPosterior(TrainingData data, ReadOnlySpan<double> theta, Span<double> gradient, GpPriors? priors,
        bool additive = false)
    {
        var n = data.Count;
        var d = data.Dimensions;
        var inverse = new double[d];
        for (var j = 0; j < d; j++) inverse[j] = Math.Exp(-2 * theta[j]);
        var signal = Math.Exp(theta[d]);
        var noiseVariable = Math.Exp(theta[d + 1]);

        var k = new double[n * n];
        // (5/3)(1+√5 r)e^{-√5 r}, which the lengthscale derivatives share: one per pair, or one per pair and dimension
        // for the additive kernel, whose terms have a distance each and a share 1/d of the signal.
        var width = additive ? d : 1;
        var share = additive ? signal / d : signal;
        var shape = new double[n * n * width];
        for (var i = 0; i < n; i++)
        {
            k[i * n + i] = signal + noiseVariable + NoiseFloor;
            for (var j = i + 1; j < n; j++)
            {
                var differences = data.SquaredDifferences(i, j);
                var pairShape = shape.AsSpan((i * n + j) * width, width);
                if (additive)
                {
                    var sum = 0.0;
                    for (var c = 0; c < d; c++) sum += MaternKernel.Term(differences[c] * inverse[c], out var decay, out pairShape[c]) * decay;
                    k[j * n + i] = k[i * n + j] = share * sum;
                }
                else
                {
                    var r2 = 0.0;
                    for (var c = 0; c < d; c++) r2 += differences[c] * inverse[c];
                    k[j * n + i] = k[i * n + j] = share * MaternKernel.Term(r2, out var decay, out pairShape[0]) * decay;
                }
            }
        }
        var cholesky = CholeskyFactor.Compute(k, n);
        var a = cholesky.Solve(data.Y);
        var value = 0.5 * VectorMath.Dot(data.Y, a) + 0.5 * cholesky.LogDeterminant() + 0.5 * n * Math.Log(2 * Math.PI);
        var inverseK = cholesky.Inverse();
        gradient.Clear();
        // ∂(−log p)/∂θ = −½ tr((ααᵀ − K⁻¹) ∂K/∂θ); K is symmetric, so off-diagonal pairs count twice.
        for (var i = 0; i < n; i++)
        {
            var wDiagonal = a[i] * a[i] - inverseK[i * n + i];
            gradient[d] -= 0.5 * wDiagonal * signal;
            gradient[d + 1] -= 0.5 * wDiagonal * noiseVariable;
            for (var j = i + 1; j < n; j++)
            {
                var w = a[i] * a[j] - inverseK[i * n + j];
                gradient[d] -= w * k[i * n + j];
                var common = w * share;
                var differences = data.SquaredDifferences(i, j);
                var pairShape = shape.AsSpan((i * n + j) * width, width);
                for (var c = 0; c < d; c++)
                    gradient[c] -= common * pairShape[additive ? c : 0] * differences[c] * inverse[c];
            }
        }
        return priors is null ? value : value + priors.AddNegativeLogPrior(theta, gradient);
    }

    /// <summary>The log marginal likelihood of the data under these hyperparameters, priors left out: what compares two kernels' fits.</summary>
    public static double LogMarginalLikelihood(TrainingData data, GpHyperparameters hyperparameters) =>
        -NegativeLogPosterior(data, hyperparameters.ToVector(), new double[data.Dimensions + 2], null, hyperparameters.Additive);

    /// <summary>
    /// Fits the hyperparameters by maximising the log posterior with L-BFGS from several starts: the
    /// previous fit (warm start), the prior's mode, and draws from the prior. The best start wins.
    /// </summary>
    /// <param name="maxNoiseVariance">The most noise variance the fit may find, in the standardised outputs' units
    /// (at most 1: all of their variance).</param>
    /// <param name="additive">Fit the additive kernel (a warm start of the other form is not used).</param>
    /// <param name="maxLengthscale">The longest lengthscale the fit may find, on the unit cube.</param>
    public static GpHyperparameters Fit(TrainingData data, GpHyperparameters? warmStart, Random random, int restarts, GpPriors priors,
        double maxNoiseVariance = 1.0, bool additive = false, double maxLengthscale = UncappedLengthscaleLimit)
    {
        var d = data.Dimensions;
        double[] lower = [.. Enumerable.Repeat(Math.Log(1e-3), d), Math.Log(1e-3), Math.Log(1e-10)];
        double[] upper = [.. Enumerable.Repeat(Math.Log(maxLengthscale), d), Math.Log(1e3), Math.Log(maxNoiseVariance)];
        var starts = new List<double[]>();
        if (warmStart is not null && warmStart.LogLengthscales.Length == d && warmStart.Additive == additive) starts.Add(warmStart.ToVector());
        else warmStart = null;
        starts.Add(priors.Mode(d));
        while (starts.Count < restarts) starts.Add(priors.Sample(d, random));

        Minimum? best = null;
        foreach (var (start, index) in starts.Take(Math.Max(restarts, 1)).Select((s, i) => (s, i)))
        {
            // A warm start sits near the optimum already (one new point moves it little): a few steps refine it.
            // Log posterior changes below 1e-7 relative do not change the model in any way that matters.
            var warm = index == 0 && warmStart is not null;
            var found = Lbfgs.Minimize((theta, gradient) => NegativeLogPosterior(data, theta, gradient, priors, additive), start, lower, upper,
                maxIterations: warm ? 25 : 80, gradientTolerance: 1e-4, relativeTolerance: 1e-7);
            if (best is null || found.Value < best.Value) best = found;
        }
        return GpHyperparameters.FromVector(best!.X, additive);
    }

    /// <summary>Losses to zero mean and unit variance (a constant series stays centred).</summary>
    public static double[] Standardise(double[] losses)
    {
        var (mean, sd) = Standardisation(losses);
        return losses.Select(l => (l - mean) / sd).ToArray();
    }

    /// <summary>The shift and scale <see cref="Standardise"/> applies: the mean, and the standard deviation (1 for a constant series).</summary>
    public static (double Mean, double Sd) Standardisation(double[] values)
    {
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(l => (l - mean) * (l - mean)) / values.Length);
        return (mean, sd < 1e-12 ? 1 : sd);
    }

    public static double Matern(double r) => MaternKernel.Matern(r);
}

/// <summary>
/// Inputs and standardised outputs of a fit, with the per-dimension squared differences of every pair
/// computed once, since the marginal likelihood is evaluated many times on the same points.
/// </summary>
public sealed class TrainingData
{
    private readonly double[] _squaredDifferences; // [(i * n + j) * d + dimension], upper triangle

    public TrainingData(double[][] x, double[] y, bool[] categorical)
    {
        X = x;
        Y = y;
        Categorical = categorical;
        var n = x.Length;
        var d = categorical.Length;
        _squaredDifferences = new double[n * n * d];
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
                for (var c = 0; c < d; c++)
                {
                    var difference = categorical[c] ? (x[i][c] == x[j][c] ? 0 : 1) : x[i][c] - x[j][c];
                    _squaredDifferences[(i * n + j) * d + c] = difference * difference;
                }
    }

    /// <summary>Above this many points a fit uses a subset (the posterior still uses all): the fit is cubic in them.</summary>
    public const int MaxFitPoints = 160;

    /// <summary>The data to fit on: everything, or above <see cref="MaxFitPoints"/> the best quarter and a random rest.</summary>
    public static TrainingData Subset(double[][] x, double[] y, bool[] categorical, Random random)
    {
        if (x.Length <= MaxFitPoints) return new TrainingData(x, y, categorical);
        var order = Enumerable.Range(0, x.Length).OrderBy(i => y[i]).ToArray();
        var best = order.Take(MaxFitPoints / 4);
        var rest = order.Skip(MaxFitPoints / 4).OrderBy(_ => random.Next()).Take(MaxFitPoints - MaxFitPoints / 4);
        var chosen = best.Concat(rest).Order().ToArray();
        var subsetY = chosen.Select(i => y[i]).ToArray();
        var subsetMean = subsetY.Average();
        return new TrainingData(chosen.Select(i => x[i]).ToArray(), subsetY.Select(v => v - subsetMean).ToArray(), categorical);
    }

    public double[][] X { get; }

    public double[] Y { get; }

    public bool[] Categorical { get; }

    public int Count => X.Length;

    public int Dimensions => Categorical.Length;

    /// <summary>The squared differences of points i &lt; j along every dimension.</summary>
    public ReadOnlySpan<double> SquaredDifferences(int i, int j) => _squaredDifferences.AsSpan((i * X.Length + j) * Categorical.Length, Categorical.Length);
}
