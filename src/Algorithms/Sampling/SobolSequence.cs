namespace Tuning.Algorithms.Sampling;

/// <summary>
/// The Sobol low-discrepancy sequence with the Joe-Kuo direction numbers (new-joe-kuo-6.21201, S. Joe and
/// F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional projections", SIAM J. Sci. Comput.
/// 30, 2008), in up to <see cref="MaxDimensions"/> dimensions. Point n is computed directly from the Gray code
/// of n, so any point can be had without generating the ones before it. Optionally scrambled, as SciPy does,
/// with a random linear matrix scramble and a digital shift: the points keep their stratification but
/// lose the artefacts of the unscrambled sequence (point 0 at the origin, say).
/// </summary>
public sealed class SobolSequence
{
    private const int Bits = 32;

    // (s, a, m_1..m_s) for dimensions 2..32 of new-joe-kuo-6.21201; dimension 1 is van der Corput.
    private static readonly (int S, int A, int[] M)[] Directions =
    [
        (1, 0, [1]), (2, 1, [1, 3]), (3, 1, [1, 3, 1]), (3, 2, [1, 1, 1]), (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]), (5, 2, [1, 1, 5, 5, 17]), (5, 4, [1, 1, 5, 5, 5]), (5, 7, [1, 1, 7, 11, 19]),
        (5, 11, [1, 1, 5, 1, 1]), (5, 13, [1, 1, 1, 3, 11]), (5, 14, [1, 3, 5, 5, 31]), (6, 1, [1, 3, 3, 9, 7, 49]),
        (6, 13, [1, 1, 1, 15, 21, 21]), (6, 16, [1, 3, 1, 13, 27, 49]), (6, 19, [1, 1, 1, 15, 7, 5]),
        (6, 22, [1, 3, 1, 15, 13, 25]), (6, 25, [1, 1, 5, 5, 19, 61]), (7, 1, [1, 3, 7, 11, 23, 15, 103]),
        (7, 4, [1, 3, 7, 13, 13, 15, 69]), (7, 7, [1, 1, 3, 13, 7, 35, 63]), (7, 8, [1, 3, 5, 9, 1, 25, 53]),
        (7, 14, [1, 3, 1, 13, 9, 35, 107]), (7, 19, [1, 3, 1, 5, 27, 61, 31]), (7, 21, [1, 1, 5, 11, 19, 41, 61]),
        (7, 28, [1, 3, 5, 3, 3, 13, 69]), (7, 31, [1, 1, 7, 13, 1, 19, 1]), (7, 32, [1, 3, 7, 5, 13, 19, 59]),
        (7, 37, [1, 1, 3, 9, 25, 29, 41]), (7, 41, [1, 3, 5, 13, 23, 1, 55]), (7, 42, [1, 3, 7, 3, 13, 59, 17]),
    ];

    public const int MaxDimensions = 32;

    private readonly uint[][] _directions;
    private readonly uint[] _shift;

    /// <param name="scrambleSeed">Null for the plain published sequence; otherwise the seed of the scramble.</param>
    public SobolSequence(int dimensions, int? scrambleSeed = null)
    {
        if (dimensions is < 1 or > MaxDimensions)
            throw new ArgumentOutOfRangeException(nameof(dimensions), $"Sobol points have 1 to {MaxDimensions} dimensions");
        Dimensions = dimensions;
        _directions = new uint[dimensions][];
        _shift = new uint[dimensions];
        var random = scrambleSeed is { } seed ? new Random(seed) : null;
        for (var j = 0; j < dimensions; j++)
        {
            _directions[j] = DirectionNumbers(j);
            if (random is null) continue;
            ScrambleLinearly(_directions[j], random);
            _shift[j] = (uint)random.NextInt64(0, 1L << Bits);
        }
    }

    public int Dimensions { get; }

    /// <summary>Writes point <paramref name="index"/> (0-based) into <paramref name="point"/>.</summary>
    public void Point(long index, Span<double> point)
    {
        var gray = (ulong)index ^ ((ulong)index >> 1);
        for (var j = 0; j < Dimensions; j++)
        {
            var x = _shift[j];
            var v = _directions[j];
            for (var k = 0; k < Bits && gray >> k != 0; k++)
                if ((gray >> k & 1) != 0) x ^= v[k];
            point[j] = x / 4294967296.0;
        }
    }

    public double[] Point(long index)
    {
        var point = new double[Dimensions];
        Point(index, point);
        return point;
    }

    /// <summary>v_k = m_k / 2^k as 32-bit fractions, extended by the recurrence of the primitive polynomial.</summary>
    private static uint[] DirectionNumbers(int dimension)
    {
        var v = new uint[Bits];
        if (dimension == 0)
        {
            for (var k = 0; k < Bits; k++) v[k] = 1u << (Bits - 1 - k);
            return v;
        }
        var (s, a, m) = Directions[dimension - 1];
        for (var k = 0; k < Math.Min(s, Bits); k++) v[k] = (uint)m[k] << (Bits - 1 - k);
        for (var k = s; k < Bits; k++)
        {
            var value = v[k - s] ^ (v[k - s] >> s);
            for (var i = 1; i < s; i++)
                if (((a >> (s - 1 - i)) & 1) != 0) value ^= v[k - i];
            v[k] = value;
        }
        return v;
    }

    /// <summary>
    /// Multiplies every direction number by one random lower-triangular binary matrix with a unit diagonal
    /// (Matoušek's linear matrix scramble): the map is invertible, so each dyadic stratum still holds one point.
    /// </summary>
    private static void ScrambleLinearly(uint[] directions, Random random)
    {
        // Row i (bit i counted from the most significant) mixes in bits 0..i-1 at random and keeps bit i.
        var rows = new uint[Bits];
        for (var i = 0; i < Bits; i++)
        {
            var own = 1u << (Bits - 1 - i);
            var above = i == 0 ? 0u : (uint)random.NextInt64(0, 1L << i) << (Bits - i);
            rows[i] = own | above;
        }
        for (var k = 0; k < directions.Length; k++)
        {
            uint scrambled = 0;
            for (var i = 0; i < Bits; i++)
                if ((uint.PopCount(rows[i] & directions[k]) & 1) != 0) scrambled |= 1u << (Bits - 1 - i);
            directions[k] = scrambled;
        }
    }
}
