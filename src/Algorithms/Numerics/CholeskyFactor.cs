using System.Runtime.CompilerServices;

namespace Tuning.Algorithms.Numerics;

/// <summary>
/// The Cholesky factor L of a symmetric positive definite matrix (K = L·Lᵀ), with the factorisation, the triangular
/// solves and the inverse a Gaussian process needs done column by column on L's column-major storage, so every inner
/// loop is a contiguous SIMD dot or axpy.
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
            var lower = (double[])columnMajor.Clone();
            for (var i = 0; jitter > 0 && i < n; i++) lower[i * n + i] += jitter;
            if (Factorise(lower, n)) return new CholeskyFactor(lower, n, jitter);
            // Written so that a NaN on the diagonal (a fit's step to a NaN hyperparameter) ends the search too.
            if (!(jitter < 1e-2 * scale)) throw new ArgumentException($"the {n} × {n} matrix is not positive definite, even with {jitter:G3} added to its diagonal");
        }
    }

    /// <summary>Columns factorised together: their updates from the columns before them share each column's read.</summary>
    private const int Block = 32;

    /// <summary>
    /// Overwrites the column-major matrix with its Cholesky factor (lower triangle; the upper set to zero); false when a
    /// pivot is not positive. Every entry receives the same operations in the same order as in the right-looking
    /// algorithm MathNet.Numerics' managed provider runs (after column k is scaled by its pivot's square root, entry
    /// (i, j) of the columns after it becomes a − L_ik·L_jk), so the factor is the one MathNet gave, bit for bit, and
    /// seeded studies suggest what they did. The order of the loops is what differs: a block of columns takes every
    /// earlier column's update in turn, each a SIMD axpy, reading that column once for the whole block, where the
    /// right-looking sweep rewrote all the remaining matrix after each column (at a thousand points, up to 4 MB each time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Factorise(double[] a, int n)
    {
        for (var first = 0; first < n; first += Block)
        {
            var end = Math.Min(first + Block, n);
            // The block's updates from the columns already factorised, column by column in their order.
            for (var k = 0; k < first; k++)
                for (var j = first; j < end; j++)
                    VectorMath.Axpy(-a[k * n + j], a.AsSpan(k * n + j, n - j), a.AsSpan(j * n + j, n - j));
            // Then from the block's own columns, each as soon as it is factorised.
            for (var k = first; k < end; k++)
            {
                var pivot = a[k * n + k];
                if (!(pivot > 0)) return false;
                var root = a[k * n + k] = Math.Sqrt(pivot);
                for (var i = k + 1; i < n; i++) a[k * n + i] /= root;
                for (var j = k + 1; j < end; j++)
                    VectorMath.Axpy(-a[k * n + j], a.AsSpan(k * n + j, n - j), a.AsSpan(j * n + j, n - j));
            }
        }
        for (var j = 1; j < n; j++) a.AsSpan(j * n, j).Clear();
        return true;
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
