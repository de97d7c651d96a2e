using Tuning.Algorithms.Acquisition;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Numerics;

namespace Tuning.Algorithms.Tests;

public class GaussianProcessTests
{
    /// <summary>ℓ = 0.5, σ_f² = 1, total noise variance 1e-4 (the floor included).</summary>
    private static readonly GpHyperparameters HandExample = new([Math.Log(0.5)], 0, Math.Log(1e-4 - GaussianProcess.NoiseFloor));

    [Fact]
    public void Matern_five_halves_matches_its_formula()
    {
        // (1 + √5 r + 5r²/3)·exp(−√5 r) at r = 1 and r = 2.
        Assert.Equal(0.5239941088318203, GaussianProcess.Matern(1), 12);
        Assert.Equal(0.13866021913850426, GaussianProcess.Matern(2), 12);
        Assert.Equal(1, GaussianProcess.Matern(0));
    }

    [Theory]
    // X = {0, 0.5, 1}, y = {1, −1, 0.5}; K_ij = M(|x_i − x_j|/ℓ) + 1e-4·δ_ij, k* = M(|x* − x_j|/ℓ);
    // mean = k*ᵀK⁻¹y and variance = 1 − k*ᵀK⁻¹k*, with the 3×3 system solved by Gaussian elimination.
    [InlineData(0.25, -0.14423266283474845, 0.09043239283720728)]
    [InlineData(0.8, -0.25183200183609955, 0.0841340121529437)]
    public void Posterior_on_three_points_matches_the_hand_computation(double at, double mean, double variance)
    {
        var gp = GaussianProcess.Create([[0.0], [0.5], [1.0]], [1, -1, 0.5], [false], HandExample);
        var (m, v) = gp.Predict([at]);
        Assert.Equal(mean, m, 9);
        Assert.Equal(variance, v, 9);
    }

    [Fact]
    public void Posterior_interpolates_observations_where_noise_is_small()
    {
        var gp = GaussianProcess.Create([[0.0], [0.5], [1.0]], [1, -1, 0.5], [false], HandExample);
        var (m, v) = gp.Predict([0.5]);
        Assert.Equal(-1, m, 3);
        Assert.True(v < 1e-3);
    }

    [Fact]
    public void Duplicate_points_do_not_break_the_factorisation()
    {
        var zeroNoise = HandExample with { LogNoiseVariance = Math.Log(1e-10) };
        var gp = GaussianProcess.Create([[0.3], [0.3], [0.3], [0.7]], [1, 1, 1, 2], [false], zeroNoise);
        var (m, v) = gp.Predict([0.3]);
        Assert.True(double.IsFinite(m) && double.IsFinite(v));
        Assert.Equal(1, m, 2);
    }

    private static double[][] RandomPoints(int n, Random random) =>
        Enumerable.Range(0, n).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.Next(3) }).ToArray();

    private static readonly GpHyperparameters ThreeDimensional = new([Math.Log(0.3), Math.Log(0.5), Math.Log(1)], 0.2, Math.Log(1e-3));

    [Fact]
    public void A_process_extended_point_by_point_predicts_as_one_built_on_all_the_points()
    {
        var random = new Random(5);
        var x = RandomPoints(60, random);
        var y = x.Select(p => Math.Sin(5 * p[0]) + p[1] * p[2]).ToArray();
        var whole = GaussianProcess.Create(x, y, [false, false, true], ThreeDimensional);
        var grown = GaussianProcess.Create(x[..20], y[..20], [false, false, true], ThreeDimensional).Extend(x[20..], y);
        Assert.Equal(60, grown.Count);
        foreach (var point in RandomPoints(10, random))
        {
            var (mean, variance) = whole.Predict(point);
            var (grownMean, grownVariance) = grown.Predict(point);
            Assert.Equal(mean, grownMean, 9);
            Assert.Equal(variance, grownVariance, 9);
        }
    }

    [Fact]
    public void Extending_by_a_duplicate_point_falls_back_to_a_jittered_factorisation()
    {
        var zeroNoise = HandExample with { LogNoiseVariance = Math.Log(1e-10) };
        var gp = GaussianProcess.Create([[0.3], [0.7]], [1, 2], [false], zeroNoise).Extend([[0.3], [0.3]], [1, 2, 1, 1]);
        var (m, v) = gp.Predict([0.3]);
        Assert.True(double.IsFinite(m) && double.IsFinite(v));
        Assert.Equal(1, m, 2);
    }

    [Fact]
    public void Batched_predictions_equal_one_at_a_time_predictions_exactly()
    {
        var random = new Random(6);
        var x = RandomPoints(300, random);
        var gp = GaussianProcess.Create(x, x.Select(p => p[0] - p[1]).ToArray(), [false, false, true], ThreeDimensional);
        var points = RandomPoints(70, random); // two full blocks of 32 and a partial one
        var means = new double[points.Length];
        var variances = new double[points.Length];
        gp.Predict(points, means, variances);
        for (var i = 0; i < points.Length; i++)
            Assert.Equal(gp.Predict(points[i]), (means[i], variances[i]));
    }

    [Fact]
    public void A_bordered_cholesky_factor_solves_the_bordered_system()
    {
        // K = [[4, 2], [2, 3]] bordered by b = (1, 1), c = 2: the 3×3 system K'·w = (1, 2, 3) solved by hand is
        // w = (−4, 5, 19)/13.
        var factor = CholeskyFactor.Compute([4, 2, 2, 3], 2).Extend([1, 1], 2)!;
        var w = factor.Solve([1, 2, 3]);
        Assert.Equal([-4 / 13.0, 5 / 13.0, 19 / 13.0], w.Select(v => Math.Round(v, 12)), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Null(CholeskyFactor.Compute([4, 2, 2, 3], 2).Extend([2, 3], 3)); // (0, 1, 1) is then in its kernel
    }

    [Fact]
    public void A_cholesky_factor_by_hand()
    {
        // [[4, 2], [2, 3]] = L·Lᵀ with L = [[2, 0], [1, √2]].
        var factor = CholeskyFactor.Compute([4, 2, 2, 3], 2);
        Assert.Equal([2.0, 1.0], factor.Multiply([1, 0]));
        Assert.Equal([0.0, Math.Sqrt(2)], factor.Multiply([0, 1]));
        Assert.Equal(0, factor.Jitter);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(97)]
    [InlineData(350)] // past 300 columns MathNet splits its updates across threads, where it has two cores or more
    public void The_cholesky_factor_is_mathnets_bit_for_bit(int n)
    {
        // Seeded studies suggest what they did before the factorisation was our own: every entry of the factor is the
        // same double as MathNet.Numerics' managed provider computes, on a kernel matrix as a fit factorises.
        var random = new Random(n);
        var data = RandomData(n, random);
        var kernel = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var d2 = 0.0;
                for (var k = 0; k < 2; k++) d2 += Math.Pow((data.X[i][k] - data.X[j][k]) / 0.3, 2);
                kernel[j * n + i] = Math.Exp(-d2 / 2) + (i == j ? 1e-3 : 0);
            }
        var expected = new MathNet.Numerics.LinearAlgebra.Double.DenseMatrix(n, n, (double[])kernel.Clone()).Cholesky().Factor;
        var factor = CholeskyFactor.Compute(kernel, n);
        Assert.Equal(0, factor.Jitter);
        for (var j = 0; j < n; j++)
        {
            var unit = new double[n];
            unit[j] = 1;
            Assert.Equal(expected.Column(j).ToArray(), factor.Multiply(unit));
        }
    }

    [Fact]
    public void A_matrix_no_jitter_makes_positive_definite_is_refused()
    {
        // Eigenvalues 3 and −1: jitter up to a hundredth of the diagonal leaves it indefinite.
        var error = Assert.Throws<ArgumentException>(() => CholeskyFactor.Compute([1, 2, 2, 1], 2));
        Assert.Contains("not positive definite", error.Message);
        // A NaN on the diagonal is refused as well, not retried for ever.
        Assert.Throws<ArgumentException>(() => CholeskyFactor.Compute([double.NaN, 0, 0, 1], 2));
        // A singular one (two equal points) takes the least jitter that works.
        Assert.Equal(1e-9, CholeskyFactor.Compute([1, 1, 1, 1], 2).Jitter);
    }

    private static TrainingData RandomData(int n, Random random) => new(
        Enumerable.Range(0, n).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.Next(3) }).ToArray(),
        Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray(),
        [false, false, true]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Marginal_likelihood_gradient_matches_finite_differences(bool additive)
    {
        var random = new Random(5);
        var data = RandomData(12, random);
        var priors = GpPriors.ForDimensions(3);
        double[] theta = [Math.Log(0.3), Math.Log(0.8), Math.Log(1.5), Math.Log(1.2), Math.Log(0.05)];
        var gradient = new double[theta.Length];
        GaussianProcess.NegativeLogPosterior(data, theta, gradient, priors, additive);
        var scratch = new double[theta.Length];
        for (var i = 0; i < theta.Length; i++)
        {
            const double h = 1e-5;
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (GaussianProcess.NegativeLogPosterior(data, plus, scratch, priors, additive) -
                GaussianProcess.NegativeLogPosterior(data, minus, scratch, priors, additive)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-5 * Math.Max(1, Math.Abs(numeric)), $"θ[{i}]: analytic {gradient[i]}, numeric {numeric}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_likelihood_and_the_posterior_use_the_kernel_the_formula_gives(bool additive)
    {
        // The Matérn is written once, and the likelihood builds its covariance in a loop of its own (for speed): both
        // must agree with the kernel written out here, categorical dimension (the last) included.
        var random = new Random(11);
        double[][] x = Enumerable.Range(0, 7).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.Next(3) }).ToArray();
        var y = x.Select(p => Math.Sin(4 * p[0]) + p[1] * p[2]).ToArray();
        bool[] categorical = [false, false, true];
        var hyperparameters = new GpHyperparameters([Math.Log(0.4), Math.Log(0.7), Math.Log(1.3)], Math.Log(1.5), Math.Log(0.02), additive);
        var lengthscales = hyperparameters.LogLengthscales.Select(Math.Exp).ToArray();
        double Kernel(double[] a, double[] b)
        {
            var scaled = Enumerable.Range(0, 3).Select(j => (categorical[j] ? (a[j] == b[j] ? 0 : 1) : a[j] - b[j]) / lengthscales[j]).ToArray();
            return additive
                ? 1.5 * scaled.Average(s => GaussianProcess.Matern(Math.Abs(s)))
                : 1.5 * GaussianProcess.Matern(Math.Sqrt(scaled.Sum(s => s * s)));
        }
        var covariance = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(7, 7,
            (i, j) => Kernel(x[i], x[j]) + (i == j ? 0.02 + GaussianProcess.NoiseFloor : 0));
        var outputs = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(GaussianProcess.Standardise(y));
        var cholesky = covariance.Cholesky();
        var expected = -0.5 * outputs.DotProduct(cholesky.Solve(outputs)) - 0.5 * cholesky.DeterminantLn - 3.5 * Math.Log(2 * Math.PI);
        Assert.Equal(expected, GaussianProcess.LogMarginalLikelihood(new TrainingData(x, outputs.ToArray(), categorical), hyperparameters), 9);

        double[] at = [0.3, 0.6, 1];
        var weights = cholesky.Solve(outputs);
        var gp = GaussianProcess.Create(x, outputs.ToArray(), categorical, hyperparameters);
        var (mean, _) = gp.Predict(at);
        Assert.Equal(Enumerable.Range(0, 7).Sum(i => Kernel(at, x[i]) * weights[i]), mean, 9);
    }

    [Fact]
    public void The_additive_kernel_is_the_mean_of_one_dimensional_materns()
    {
        // One observation y₁ = 2 at (0.2, 0.9), ℓ = (0.5, 0.25), signal 3, noise 0.1: at (0.7, 0.4) the distances are 1
        // and 2 in lengthscales, so k = 3·(M(1) + M(2))/2 = 3·(0.5239941 + 0.1386602)/2 = 0.9939815, and the posterior
        // mean is k·y₁/(3 + 0.1 + floor) and its variance 3 − k²/(3 + 0.1 + floor).
        var hyperparameters = new GpHyperparameters([Math.Log(0.5), Math.Log(0.25)], Math.Log(3), Math.Log(0.1), Additive: true);
        var gp = GaussianProcess.Create([[0.2, 0.9]], [2.0], [false, false], hyperparameters);
        const double k = 0.9939814919554868, diagonal = 3.1 + GaussianProcess.NoiseFloor;
        var (mean, variance) = gp.Predict([0.7, 0.4]);
        Assert.Equal(k * 2 / diagonal, mean, 10);
        Assert.Equal(3 - k * k / diagonal, variance, 10);
    }

    [Fact]
    public void The_marginal_likelihood_prefers_the_kernel_whose_form_the_function_has()
    {
        // 12 parameters, 100 points: a sum of one-parameter effects is explained better by the additive kernel, a bump
        // in two parameters at once (an interaction, which no sum of one-parameter terms holds) by the product kernel.
        var random = new Random(4);
        var x = Enumerable.Range(0, 100).Select(_ => Enumerable.Range(0, 12).Select(_ => random.NextDouble()).ToArray()).ToArray();
        double Fitted(Func<double[], double> function, bool additive)
        {
            var y = GaussianProcess.Standardise(x.Select(function).ToArray());
            var data = new TrainingData(x, y, new bool[12]);
            var priors = additive ? GpPriors.ForDimensions(1) with { LengthscaleMean = Math.Log(0.2), LengthscaleSd = 1 } : GpPriors.ForDimensions(12);
            return GaussianProcess.LogMarginalLikelihood(data, GaussianProcess.Fit(data, null, new Random(1), 3, priors, additive: additive));
        }
        double Sum(double[] p) => p.Sum(v => Math.Sin(6 * v));
        double Bump(double[] p) => Math.Sin(2 * Math.PI * p[0]) * Math.Sin(2 * Math.PI * p[1]); // no one-parameter effect at all
        var (sumAdditive, sumProduct) = (Fitted(Sum, true), Fitted(Sum, false));
        var (bumpAdditive, bumpProduct) = (Fitted(Bump, true), Fitted(Bump, false));
        Assert.True(sumAdditive > sumProduct + 5, $"sum: additive {sumAdditive}, product {sumProduct}");
        Assert.True(bumpProduct > bumpAdditive + 5, $"bump: product {bumpProduct}, additive {bumpAdditive}");
    }

    [Fact]
    public void Fitting_finds_a_long_lengthscale_for_an_irrelevant_dimension()
    {
        var random = new Random(3);
        var x = Enumerable.Range(0, 30).Select(_ => new[] { random.NextDouble(), random.NextDouble() }).ToArray();
        var y = x.Select(p => Math.Sin(6 * p[0])).ToArray();
        var mean = y.Average();
        var data = new TrainingData(x, y.Select(v => v - mean).ToArray(), [false, false]);
        var fit = GaussianProcess.Fit(data, null, new Random(1), 3, GpPriors.ForDimensions(2));
        Assert.True(fit.LogLengthscales[1] > fit.LogLengthscales[0] + 1, $"lengthscales {Math.Exp(fit.LogLengthscales[0])}, {Math.Exp(fit.LogLengthscales[1])}");
    }

    public static TheoryData<string, bool> Acquisitions => new() { { "logei", false }, { "lognei", false }, { "logei", true }, { "lognei", true } };

    [Theory]
    [MemberData(nameof(Acquisitions))]
    public void Acquisition_gradients_match_finite_differences(string kind, bool additive)
    {
        var random = new Random(9);
        var x = Enumerable.Range(0, 15).Select(_ => new[] { random.NextDouble(), random.NextDouble() }).ToArray();
        var y = x.Select(p => p[0] * p[0] - Math.Cos(3 * p[1]) + 0.1 * random.NextDouble()).ToArray();
        var gp = GaussianProcess.Create(x, y, [false, false], new GpHyperparameters([Math.Log(0.4), Math.Log(0.6)], 0, Math.Log(1e-2), additive));
        IAcquisition acquisition = kind == "logei"
            ? new LogExpectedImprovement(gp, y.Min())
            : new LogNoisyExpectedImprovement(gp, x.OrderBy(p => gp.Predict(p).Mean).Take(5).ToArray(), 32, new Random(2));
        foreach (var point in new[] { new[] { 0.37, 0.61 }, x[3].Select(v => v + 0.01).ToArray() })
        {
            var gradient = new double[2];
            acquisition.Value(point, gradient);
            for (var j = 0; j < 2; j++)
            {
                const double h = 1e-6;
                var plus = (double[])point.Clone();
                var minus = (double[])point.Clone();
                plus[j] += h;
                minus[j] -= h;
                var numeric = (acquisition.Value(plus) - acquisition.Value(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[j]) <= 1e-4 * Math.Max(1, Math.Abs(numeric)), $"{kind} ∂/∂x{j}: analytic {gradient[j]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void Noisy_expected_improvement_is_expected_improvement_where_the_observations_are_exact()
    {
        // Noiseless data: the draws of the best evaluated point all agree with the lowest observation.
        var x = new[] { new[] { 0.1 }, [0.4], [0.7], [0.9] };
        var y = new[] { 0.5, -1.0, 0.2, 1.0 };
        var gp = GaussianProcess.Create(x, y, [false], new GpHyperparameters([Math.Log(0.3)], 0, Math.Log(1e-9)));
        var noisy = new LogNoisyExpectedImprovement(gp, x, 16, new Random(1));
        var plain = new LogExpectedImprovement(gp, -1.0);
        foreach (var at in new[] { 0.25, 0.55, 0.8 })
            Assert.InRange(noisy.Value([at]) - plain.Value([at]), -0.05, 0.05); // EI within 5%
    }

    [Fact]
    public void Noisy_expected_improvement_expects_little_beside_a_noisy_lucky_draw()
    {
        // Noisy data where one observation is a lucky draw far below its neighbours: plain EI against that draw finds
        // almost nothing to gain anywhere; the noisy variant, whose incumbent is what the model believes, does.
        var x = Enumerable.Range(0, 12).Select(i => new[] { i / 11.0 }).ToArray();
        var y = x.Select((p, i) => Math.Pow(p[0] - 0.5, 2) + (i == 5 ? -0.6 : 0)).ToArray();
        var gp = GaussianProcess.Create(x, y, [false], new GpHyperparameters([Math.Log(0.3)], Math.Log(0.1), Math.Log(0.04)));
        var noisy = new LogNoisyExpectedImprovement(gp, x, 64, new Random(1));
        var plain = new LogExpectedImprovement(gp, y.Min());
        Assert.True(noisy.Value([0.52]) > plain.Value([0.52]) + 1, $"noisy {noisy.Value([0.52])}, plain {plain.Value([0.52])}");
    }

    [Fact]
    public void Importance_ranks_the_parameter_the_objective_depends_on_first()
    {
        // The objective moves along a, barely along b, and not at all with the category.
        var space = new Tuning.Algorithms.Space.SearchSpace([
            new Tuning.Algorithms.Space.DoubleParameter("a", 0, 1),
            new Tuning.Algorithms.Space.DoubleParameter("b", 0, 1),
            new Tuning.Algorithms.Space.CategoricalParameter("c", ["x", "y"]),
        ]);
        var random = new Random(5);
        var observations = Enumerable.Range(0, 40).Select(_ =>
        {
            var p = space.FromUnit(Tuning.Algorithms.Sampling.UniformPoint.Draw(random, 3));
            return new Tuning.Algorithms.Suggesters.Observation(p, Math.Sin(6 * p["a"].Number) + 0.05 * p["b"].Number);
        }).ToArray();
        var importance = ParameterImportance.Estimate(space, observations)!;
        Assert.Equal(1.0, importance.Sum(), 9);
        Assert.True(importance[0] > 2 * importance[1] && importance[0] > 2 * importance[2], string.Join(", ", importance));
        // A parameter that does nothing gets no share (under the search's lengthscale cap, the category got 0.11 here).
        Assert.True(importance[2] < 0.02, string.Join(", ", importance));
        Assert.Null(ParameterImportance.Estimate(space, observations[..2]));
    }
}
