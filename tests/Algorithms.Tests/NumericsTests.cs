using Tuning.Algorithms.Acquisition;
using Tuning.Algorithms.Numerics;
using Tuning.Algorithms.Sampling;

namespace Tuning.Algorithms.Tests;

public class NumericsTests
{
    [Theory]
    // log(σ·(φ(z) + zΦ(z))) with z = (best − μ)/σ, evaluated directly where it does not cancel.
    [InlineData(0.3, 0.5, 0.0, -2.472942117661699)]
    [InlineData(-1, 2, 0.5, 0.5666389736679923)]
    [InlineData(2, 0.1, 0.0, -209.22042360243339)]
    public void LogEI_matches_the_closed_form(double mean, double sd, double best, double expected) =>
        Assert.Equal(expected, LogExpectedImprovement.Compute(mean, sd, best), 8);

    [Theory]
    [InlineData(-40)]
    [InlineData(-1e3)]
    [InlineData(-1e6)]
    [InlineData(-1e10)]
    public void LogH_stays_finite_in_the_far_tail_and_follows_its_asymptote(double z)
    {
        var value = NormalMath.LogH(z);
        Assert.True(double.IsFinite(value));
        // h(z) ~ φ(z)/z² (1 − 3/z² + 15/z⁴ − 105/z⁶) as z → −∞.
        var w = 1 / (z * z);
        var asymptote = -0.5 * z * z - 0.5 * Math.Log(2 * Math.PI) - 2 * Math.Log(-z) + Math.Log(1 - 3 * w + 15 * w * w - 105 * w * w * w);
        Assert.Equal(asymptote, value, Math.Abs(asymptote) * 1e-10 + 1e-6);
    }

    [Fact]
    public void LogH_is_continuous_and_increasing_across_its_regimes()
    {
        var previous = double.NegativeInfinity;
        for (var z = -60.0; z <= 5; z += 0.01)
        {
            var value = NormalMath.LogH(z);
            Assert.True(value > previous, $"log h not increasing at z = {z}");
            previous = value;
        }
        Assert.Equal(NormalMath.LogH(-1 - 1e-12), NormalMath.LogH(-1 + 1e-12), 9);
        var tailCut = -1 / Math.Sqrt(2.220446049250313e-16);
        var inside = NormalMath.LogH(tailCut * (1 - 1e-13));
        var outside = NormalMath.LogH(tailCut * (1 + 1e-13));
        Assert.True(Math.Abs(inside - outside) <= 1e-9 * Math.Abs(inside), $"jump at the tail cut: {inside} vs {outside}");
    }

    [Fact]
    public void LogEI_is_never_nan_or_infinite()
    {
        foreach (var mean in new[] { -1e6, -3.0, 0, 3, 1e3, 1e8 })
            foreach (var sd in new[] { 1e-12, 1e-6, 1e-2, 1, 1e3 })
                Assert.True(double.IsFinite(LogExpectedImprovement.Compute(mean, sd, 0)), $"μ={mean}, σ={sd}");
    }

    [Fact]
    public void LogCdf_is_exact_far_below_zero()
    {
        Assert.Equal(Math.Log(0.5), NormalMath.LogCdf(0), 14);
        // log Φ(−40) = −804.6084420137538 (Mills ratio expansion).
        Assert.Equal(-804.6084420137538, NormalMath.LogCdf(-40), 8);
    }

    [Fact]
    public void Sobol_first_points_match_the_published_sequence()
    {
        // SciPy's Sobol(d=3, scramble=False), the Joe-Kuo new-joe-kuo-6.21201 directions.
        double[][] published =
        [
            [0, 0, 0], [0.5, 0.5, 0.5], [0.75, 0.25, 0.25], [0.25, 0.75, 0.75],
            [0.375, 0.375, 0.625], [0.875, 0.875, 0.125], [0.625, 0.125, 0.875], [0.125, 0.625, 0.375],
        ];
        var sobol = new SobolSequence(3);
        for (var i = 0; i < published.Length; i++) Assert.Equal(published[i], sobol.Point(i));
    }

    [Fact]
    public void Sobol_reaches_21_dimensions_and_beyond_with_every_coordinate_in_range()
    {
        var sobol = new SobolSequence(SobolSequence.MaxDimensions);
        Assert.True(SobolSequence.MaxDimensions >= 21);
        // Dimension 21 (s = 7, a = 4, m = 1 3 7 13 13 15 69), v_k = m_k / 2^k. In Gray-code order point 2^k is
        // v_k XOR v_(k+1), so points 2, 4, ..., 64 check every initial direction number of that dimension.
        double[] expected = [0.25, 0.125, 0.1875, 0.71875, 0.328125, 0.7109375];
        Assert.Equal(expected, Enumerable.Range(1, 6).Select(k => sobol.Point(1 << k)[20]));
        for (var i = 0; i < 1024; i++) Assert.All(sobol.Point(i), v => Assert.InRange(v, 0, 1));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(11)]
    public void Sobol_points_stay_stratified_scrambled_or_not(int? seed)
    {
        // The first 2^k points put exactly one point in each interval [i/2^k, (i+1)/2^k) of every coordinate.
        var sobol = new SobolSequence(8, seed);
        var points = Enumerable.Range(0, 64).Select(i => sobol.Point(i)).ToArray();
        for (var j = 0; j < 8; j++)
            Assert.Equal(64, points.Select(p => (int)(p[j] * 64)).Distinct().Count());
    }

    [Fact]
    public void Scrambling_depends_on_the_seed_and_only_on_it()
    {
        Assert.Equal(new SobolSequence(4, 1).Point(5), new SobolSequence(4, 1).Point(5));
        Assert.NotEqual(new SobolSequence(4, 1).Point(5), new SobolSequence(4, 2).Point(5));
        Assert.NotEqual(new double[4], new SobolSequence(4, 1).Point(0));
    }

    [Fact]
    public void Lbfgs_minimises_rosenbrock()
    {
        var minimum = Lbfgs.Minimize((x, g) =>
        {
            g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200 * (x[1] - x[0] * x[0]);
            return Math.Pow(1 - x[0], 2) + 100 * Math.Pow(x[1] - x[0] * x[0], 2);
        }, [-1.2, 1.0], maxIterations: 500, gradientTolerance: 1e-9, relativeTolerance: 0);
        Assert.Equal(1, minimum.X[0], 4);
        Assert.Equal(1, minimum.X[1], 4);
    }

    [Fact]
    public void Lbfgs_stops_at_an_active_bound()
    {
        var minimum = Lbfgs.Minimize((x, g) =>
        {
            g[0] = 2 * (x[0] - 2);
            g[1] = 2 * (x[1] + 0.5);
            return Math.Pow(x[0] - 2, 2) + Math.Pow(x[1] + 0.5, 2);
        }, [0.5, 0.5], lower: [0, 0], upper: [1, 1]);
        Assert.Equal([1.0, 0.0], minimum.X);
    }
}
