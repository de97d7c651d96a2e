using System.Runtime.CompilerServices;

namespace Tuning.Algorithms.Models;

/// <summary>
/// The Matérn 5/2 covariance under one set of hyperparameters, in one of two forms. The product form (ARD) takes one
/// distance over every dimension, each scaled by its lengthscale: any parameter may interact with any other. The
/// additive form (Duvenaud et al., NeurIPS 2011; Kandasamy et al., ICML 2015) sums a one-dimensional Matérn per
/// dimension, divided by their number so the prior variance is the signal's in both forms: it models a function that
/// is a sum of one-parameter effects, whose effect along each parameter is learnt from every point however many
/// parameters there are. Categorical dimensions hold a category index and contribute an indicator distance (0 for the
/// same category, 1 otherwise).
/// </summary>
internal sealed class MaternKernel
{
    private static readonly double Sqrt5 = Math.Sqrt(5);

    private readonly bool[] _categorical;
    private readonly bool _additive;

    public MaternKernel(GpHyperparameters hyperparameters, bool[] categorical)
    {
        _categorical = categorical;
        _additive = hyperparameters.Additive;
        Signal = Math.Exp(hyperparameters.LogSignalVariance);
        InverseSquaredLengthscales = hyperparameters.LogLengthscales.Select(l => Math.Exp(-2 * l)).ToArray();
    }

    /// <summary>k(x, x): the prior variance.</summary>
    public double Signal { get; }

    public double[] InverseSquaredLengthscales { get; }

    /// <summary>
    /// The Matérn 5/2 at squared distance r², the one place its formula is written: returns the polynomial
    /// 1 + √5 r + 5r²/3, with the <paramref name="decay"/> e^{-√5 r} it multiplies, and in <paramref name="shape"/>
    /// (5/3)(1 + √5 r)e^{-√5 r}, which −∂M/∂r divided by r comes to: the kernel's gradient in a point and the
    /// likelihood's in the lengthscales both scale it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Term(double r2, out double decay, out double shape)
    {
        var r = Math.Sqrt(r2);
        decay = Math.Exp(-Sqrt5 * r);
        shape = 5.0 / 3 * (1 + Sqrt5 * r) * decay;
        return 1 + Sqrt5 * r + 5.0 / 3 * r2;
    }

    /// <summary>The Matérn 5/2 at distance <paramref name="r"/>.</summary>
    public static double Matern(double r) => Term(r * r, out var decay, out _) * decay;

    /// <summary>How many slopes <see cref="ValueAndSlopes"/> writes: one for the product form, one per dimension for the additive.</summary>
    public int SlopeCount => _additive ? _categorical.Length : 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double Difference(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int j) =>
        _categorical[j] ? (a[j] == b[j] ? 0 : 1) : a[j] - b[j];

    /// <summary>k(a, b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double Value(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var sum = 0.0;
        if (!_additive)
        {
            for (var j = 0; j < a.Length; j++)
            {
                var difference = Difference(a, b, j);
                sum += difference * difference * InverseSquaredLengthscales[j];
            }
            return Signal * Matern(Math.Sqrt(sum));
        }
        for (var j = 0; j < a.Length; j++)
        {
            var difference = Difference(a, b, j);
            sum += Matern(Math.Sqrt(difference * difference * InverseSquaredLengthscales[j]));
        }
        return Signal / a.Length * sum;
    }

    /// <summary>
    /// k(point, other), and in <paramref name="slopes"/> (<see cref="SlopeCount"/> of them) the factors s with
    /// ∂k/∂x_j = s·(x_j − other_j)/ℓ_j² (the Matérn's derivative divided by its distance): <see cref="Gradient"/> uses them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double ValueAndSlopes(ReadOnlySpan<double> point, ReadOnlySpan<double> other, Span<double> slopes)
    {
        if (!_additive)
        {
            var squared = 0.0;
            for (var j = 0; j < point.Length; j++)
            {
                var difference = Difference(point, other, j);
                squared += difference * difference * InverseSquaredLengthscales[j];
            }
            var polynomial = Term(squared, out var decay, out var shape);
            slopes[0] = -Signal * shape;
            return Signal * polynomial * decay;
        }
        var share = Signal / point.Length;
        var sum = 0.0;
        for (var j = 0; j < point.Length; j++)
        {
            var difference = Difference(point, other, j);
            var polynomial = Term(difference * difference * InverseSquaredLengthscales[j], out var decay, out var shape);
            slopes[j] = -share * shape;
            sum += polynomial * decay;
        }
        return share * sum;
    }

    /// <summary>Writes ∂k(point, other)/∂point from <see cref="ValueAndSlopes"/>'s slopes; zero along categorical dimensions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Gradient(ReadOnlySpan<double> point, ReadOnlySpan<double> other, ReadOnlySpan<double> slopes, Span<double> gradient)
    {
        for (var j = 0; j < gradient.Length; j++)
            gradient[j] = _categorical[j] ? 0 : slopes[_additive ? j : 0] * (point[j] - other[j]) * InverseSquaredLengthscales[j];
    }
}
