namespace Tuning.Algorithms.MultiObjective;

/// <summary>
/// The hypervolume a set of loss points dominates up to a reference point (every objective minimised): exact in any
/// number of objectives, by a sweep in two and by WFG's exclusive-volume recursion (While, Bradstreet and Barone 2012)
/// beyond, which is quick for the few hundred points and 2-4 objectives of a study.
/// </summary>
public static class Hypervolume
{
    /// <summary>The volume dominated by <paramref name="points"/> and bounded by <paramref name="reference"/>; points not
    /// better than the reference in every objective add nothing.</summary>
    public static double Of(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<double> reference)
    {
        var inside = points.Where(p => Enumerable.Range(0, reference.Count).All(k => p[k] < reference[k]))
            .Select(p => p.ToArray()).ToList();
        return Volume(NonDominated(inside), reference.ToArray());
    }

    /// <summary>
    /// What each point adds alone: the hypervolume of all the points less that of the others. Zero for a point another
    /// dominates or one outside the reference box. MOTPE splits good from bad trials by it within a front.
    /// </summary>
    public static double[] Contributions(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<double> reference)
    {
        var total = Of(points, reference);
        return Enumerable.Range(0, points.Count)
            .Select(i => Math.Max(0, total - Of(points.Where((_, j) => j != i).ToArray(), reference)))
            .ToArray();
    }

    /// <summary>
    /// A reference point taken from the points themselves: each objective's worst value plus a tenth of its range (plus
    /// 1 where all points agree), so every point of the front, its extremes included, adds some volume.
    /// </summary>
    public static double[] DerivedReference(IReadOnlyList<IReadOnlyList<double>> points)
    {
        var objectives = points[0].Count;
        var reference = new double[objectives];
        for (var k = 0; k < objectives; k++)
        {
            var worst = points.Max(p => p[k]);
            var span = worst - points.Min(p => p[k]);
            reference[k] = worst + (span > 0 ? 0.1 * span : 1);
        }
        return reference;
    }

    private static double Volume(List<double[]> points, double[] reference)
    {
        if (points.Count == 0) return 0;
        if (reference.Length == 1) return reference[0] - points.Min(p => p[0]);
        if (reference.Length == 2) return Sweep(points, reference);
        // Sorted by the last objective, worst first, the limited sets stay small (WFG's ordering).
        points.Sort((a, b) => b[^1].CompareTo(a[^1]));
        var volume = 0.0;
        for (var i = 0; i < points.Count; i++)
        {
            var limited = new List<double[]>(points.Count - i - 1);
            for (var j = i + 1; j < points.Count; j++)
            {
                var bound = new double[reference.Length];
                for (var k = 0; k < bound.Length; k++) bound[k] = Math.Max(points[i][k], points[j][k]);
                limited.Add(bound);
            }
            volume += Box(points[i], reference) - Volume(NonDominated(limited), reference);
        }
        return volume;
    }

    /// <summary>Two objectives: the staircase's area, sorted by the first objective.</summary>
    private static double Sweep(List<double[]> points, double[] reference)
    {
        var area = 0.0;
        var lowest = reference[1];
        foreach (var p in points.OrderBy(p => p[0]).ThenBy(p => p[1]))
        {
            if (p[1] >= lowest) continue;
            area += (reference[0] - p[0]) * (lowest - p[1]);
            lowest = p[1];
        }
        return area;
    }

    private static double Box(double[] point, double[] reference)
    {
        var volume = 1.0;
        for (var k = 0; k < point.Length; k++) volume *= reference[k] - point[k];
        return volume;
    }

    /// <summary>The points no other dominates, duplicates kept once.</summary>
    private static List<double[]> NonDominated(List<double[]> points)
    {
        var kept = new List<double[]>(points.Count);
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var dropped = false;
            for (var j = 0; j < points.Count && !dropped; j++)
                dropped = j != i && (Pareto.Dominates(points[j], p) || (j < i && points[j].AsSpan().SequenceEqual(p)));
            if (!dropped) kept.Add(p);
        }
        return kept;
    }
}
