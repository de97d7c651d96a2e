namespace Tuning.Algorithms.Numerics;

/// <summary>Rank correlation of paired values.</summary>
public static class RankCorrelation
{
    /// <summary>
    /// Spearman's ρ: Pearson's correlation of the two samples' ranks, tied values sharing their mean rank. 0 where either
    /// sample is constant (it orders nothing) or there are fewer than two pairs.
    /// </summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"{x.Count} values against {y.Count}");
        if (x.Count < 2) return 0;
        var (rx, ry) = (Ranks(x), Ranks(y));
        var mean = (x.Count + 1) / 2.0;
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Count; i++)
        {
            var (dx, dy) = (rx[i] - mean, ry[i] - mean);
            (sxy, sxx, syy) = (sxy + dx * dy, sxx + dx * dx, syy + dy * dy);
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Ranks from 1, ties given the mean of the ranks they span.</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (var k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        return ranks;
    }
}
