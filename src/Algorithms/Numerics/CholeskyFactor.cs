using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Tuning.Algorithms.Numerics;

/// <summary>
/// The Cholesky factor L of a symmetric positive definite matrix (K = L·Lᵀ), factorised by MathNet.Numerics,
/// with the triangular solves and the inverse a Gaussian process needs done column by column on L's
/// column-major storage, so every inner loop is a contiguous SIMD dot or axpy.
/// </summary>
public sealed class CholeskyFactor
{
    private readonly double[] _lower; // column-major, n × n

    private CholeskyFactor(double[] lower, int size, double jitter)
    {
        _lower = lower;
        Size = size;
        Jitter = jitter;
    }

    public int Size { get; }

    /// <summary>What had to be added to the diagonal to make the matrix positive definite (0 when nothing).</summary>
    public double Jitter { get; }

    /// <summary>
    /// Factorises the column-major matrix, adding diagonal jitter from 1e-9 up to 1e-2 of the largest diagonal
    /// entry until it is positive definite: near-duplicate points must never break a fit.
    /// </summary>
    public static CholeskyFactor Compute(double[] columnMajor, int n)
    {
        var scale = 0.0;
        for (var i = 0; i < n; i++) scale = Math.Max(scale, columnMajor[i * n + i]);
        for (var jitter = 0.0; ; jitter = jitter == 0 ? 1e-9 * scale : jitter * 10)
        {
            var values = jitter == 0 ? columnMajor : (double[])columnMajor.Clone();
            for (var i = 0; jitter > 0 && i < n; i++) values[i * n + i] += jitter;
            try
            {
                var factor = new DenseMatrix(n, n, values).Cholesky().Factor;
                return new CholeskyFactor(factor.AsColumnMajorArray() ?? factor.ToColumnMajorArray(), n, jitter);
            }
            catch (ArgumentException) when (jitter < 1e-2 * scale)
            {
            }
        }
    }

    /// <summary>
    /// The factor of K bordered by one more point, [[K, b], [bᵀ, c]], in O(n²) instead of a new O(n³) factorisation:
    /// the new row is s = L⁻¹b and the new diagonal entry √(c + jitter − sᵀs). The jitter of this factor is added to c,
    /// so the result is the factor <see cref="Compute"/> would give up to rounding. Null when the bordered matrix is not
    /// positive definite with that jitter (a near-duplicate point): the caller factorises afresh.
    /// </summary>
    /// <param name="cross">b: the kernel between the existing points and the new one.</param>
    /// <param name="diagonal">c: the new point's prior variance, noise included.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public CholeskyFactor? Extend(ReadOnlySpan<double> cross, double diagonal)
    {
        var n = Size;
        var size = n + 1;
        var row = cross.ToArray();
        ForwardSubstitute(row);
        var pivot = diagonal + Jitter - VectorMath.Dot(row, row);
        // The noise floor keeps an exact pivot at least 1e-6 of the signal; far below that, rounding has eaten it.
        if (!(pivot > 1e-10 * diagonal)) return null;
        var lower = new double[size * size];
        for (var j = 0; j < n; j++)
        {
            _lower.AsSpan(j * n + j, n - j).CopyTo(lower.AsSpan(j * size + j));
            lower[j * size + n] = row[j];
        }
        lower[n * size + n] = Math.Sqrt(pivot);
        return new CholeskyFactor(lower, size, Jitter);
    }

    /// <summary>log det K = 2 Σ log L_ii.</summary>
    public double LogDeterminant()
    {
        var sum = 0.0;
        for (var i = 0; i < Size; i++) sum += Math.Log(_lower[i * Size + i]);
        return 2 * sum;
    }

    /// <summary>Solves L·v = b in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ForwardSubstitute(Span<double> b)
    {
        var n = Size;
        for (var j = 0; j < n; j++)
        {
            var value = b[j] /= _lower[j * n + j];
            if (value != 0) VectorMath.Axpy(-value, _lower.AsSpan(j * n + j + 1, n - j - 1), b[(j + 1)..]);
        }
    }

    /// <summary>
    /// Solves L·v = b in place for m right-hand sides at once, each contiguous in <paramref name="columns"/> (m × n),
    /// with the same arithmetic as <see cref="ForwardSubstitute"/> on each. L is taken a panel of columns at a time and
    /// every right-hand side advances through the panel while it sits in cache: solving them one by one would stream
    /// all of L from memory for each, and at a thousand points that traffic, not the arithmetic, is what a batch of
    /// predictions costs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ForwardSubstituteMany(Span<double> columns, int m)
    {
        const int panel = 32;
        var n = Size;
        for (var first = 0; first < n; first += panel)
        {
            var end = Math.Min(first + panel, n);
            for (var c = 0; c < m; c++)
            {
                var b = columns.Slice(c * n, n);
                for (var j = first; j < end; j++)
                {
                    var value = b[j] /= _lower[j * n + j];
                    if (value != 0) VectorMath.Axpy(-value, _lower.AsSpan(j * n + j + 1, n - j - 1), b[(j + 1)..]);
                }
            }
        }
    }

    /// <summary>L·z: with z standard normal, a draw from N(0, K).</summary>
    public double[] Multiply(ReadOnlySpan<double> z)
    {
        var n = Size;
        var result = new double[n];
        for (var j = 0; j < n; j++)
            VectorMath.Axpy(z[j], _lower.AsSpan(j * n + j, n - j), result.AsSpan(j));
        return result;
    }

    /// <summary>Solves Lᵀ·w = v in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void BackSubstitute(Span<double> v)
    {
        var n = Size;
        for (var j = n - 1; j >= 0; j--)
            v[j] = (v[j] - VectorMath.Dot(_lower.AsSpan(j * n + j + 1, n - j - 1), v[(j + 1)..])) / _lower[j * n + j];
    }

    /// <summary>K⁻¹·b.</summary>
    public double[] Solve(ReadOnlySpan<double> b)
    {
        var x = b.ToArray();
        ForwardSubstitute(x);
        BackSubstitute(x);
        return x;
    }

    /// <summary>K⁻¹ = L⁻ᵀ·L⁻¹, column-major: columns of L⁻¹ by forward substitution, then their dot products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double[] Inverse()
    {
        var n = Size;
        var inverseLower = new double[n * n]; // column c holds L⁻¹·e_c, zero above row c
        for (var c = 0; c < n; c++)
        {
            var column = inverseLower.AsSpan(c * n, n);
            column[c] = 1;
            for (var j = c; j < n; j++)
            {
                var value = column[j] /= _lower[j * n + j];
                if (value != 0) VectorMath.Axpy(-value, _lower.AsSpan(j * n + j + 1, n - j - 1), column[(j + 1)..]);
            }
        }
        var result = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = i; j < n; j++)
                result[i * n + j] = result[j * n + i] =
                    VectorMath.Dot(inverseLower.AsSpan(i * n + j, n - j), inverseLower.AsSpan(j * n + j, n - j));
        return result;
    }
}
