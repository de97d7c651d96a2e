namespace Tuning.Algorithms.MultiObjective;

/// <summary>
/// Pareto dominance among points of several objectives, each a loss (every objective minimised; a maximised one is
/// negated first), and the orderings built on it: non-dominated ranks and crowding distance, as NSGA-II defines them.
/// </summary>
public static class Pareto
{
    /// <summary>Whether <paramref name="a"/> is no worse than <paramref name="b"/> in every objective and better in one.</summary>
    public static bool Dominates(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var better = false;
        for (var k = 0; k < a.Count; k++)
        {
            if (a[k] > b[k]) return false;
            if (a[k] < b[k]) better = true;
        }
        return better;
    }

    /// <summary>
    /// Deb's constraint dominance: a feasible point (violation 0) dominates an infeasible one, of two infeasible points
    /// the one that breaks its constraints by less dominates, and two feasible points compare by Pareto dominance.
    /// </summary>
    public static bool ConstrainedDominates(IReadOnlyList<double> a, double aViolation, IReadOnlyList<double> b, double bViolation) =>
        (aViolation, bViolation) switch
        {
            (0, 0) => Dominates(a, b),
            (0, _) => true,
            (_, 0) => false,
            _ => aViolation < bViolation,
        };

    /// <summary>
    /// Each point's non-dominated rank: 0 for the points no other dominates, 1 for those only rank-0 points dominate,
    /// and so on (the fast non-dominated sort). With <paramref name="violations"/> (0 where a point is feasible),
    /// dominance is constraint dominance, so feasible points rank before every infeasible one.
    /// </summary>
    public static int[] Ranks(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<double>? violations = null)
    {
        var n = points.Count;
        var dominated = new List<int>[n];
        var dominatedBy = new int[n];
        for (var i = 0; i < n; i++) dominated[i] = [];
        bool Beats(int i, int j) => violations is null
            ? Dominates(points[i], points[j])
            : ConstrainedDominates(points[i], violations[i], points[j], violations[j]);
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                if (Beats(i, j)) { dominated[i].Add(j); dominatedBy[j]++; }
                else if (Beats(j, i)) { dominated[j].Add(i); dominatedBy[i]++; }
            }
        var ranks = new int[n];
        var front = Enumerable.Range(0, n).Where(i => dominatedBy[i] == 0).ToList();
        for (var rank = 0; front.Count > 0; rank++)
        {
            var next = new List<int>();
            foreach (var i in front)
            {
                ranks[i] = rank;
                foreach (var j in dominated[i])
                    if (--dominatedBy[j] == 0) next.Add(j);
            }
            front = next;
        }
        return ranks;
    }

    /// <summary>The indices of the points no other point dominates, in their order.</summary>
    public static IReadOnlyList<int> NonDominated(IReadOnlyList<IReadOnlyList<double>> points) =>
        Enumerable.Range(0, points.Count).Where(i => !points.Any(other => Dominates(other, points[i]))).ToArray();

    /// <summary>
    /// NSGA-II's crowding distance of each point within its front: the sum over objectives of the gap between its
    /// neighbours, scaled by the objective's range; the points at either end of an objective get infinity, so a
    /// front's extremes are kept first.
    /// </summary>
    public static double[] CrowdingDistances(IReadOnlyList<IReadOnlyList<double>> front)
    {
        var n = front.Count;
        var distances = new double[n];
        if (n <= 2)
        {
            Array.Fill(distances, double.PositiveInfinity);
            return distances;
        }
        for (var k = 0; k < front[0].Count; k++)
        {
            var order = Enumerable.Range(0, n).OrderBy(i => front[i][k]).ThenBy(i => i).ToArray();
            var span = front[order[^1]][k] - front[order[0]][k];
            distances[order[0]] = distances[order[^1]] = double.PositiveInfinity;
            if (span <= 0) continue;
            for (var at = 1; at < n - 1; at++)
                distances[order[at]] += (front[order[at + 1]][k] - front[order[at - 1]][k]) / span;
        }
        return distances;
    }

    /// <summary>Each point's crowding distance within its front, the fronts given by <paramref name="ranks"/>.</summary>
    public static double[] CrowdingWithinFronts(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<int> ranks)
    {
        var crowding = new double[points.Count];
        foreach (var front in Enumerable.Range(0, points.Count).GroupBy(i => ranks[i]))
        {
            var members = front.ToArray();
            var distances = CrowdingDistances(members.Select(i => points[i]).ToArray());
            for (var j = 0; j < members.Length; j++) crowding[members[j]] = distances[j];
        }
        return crowding;
    }

    /// <summary>
    /// The points' indices best first, as MOTPE and Optuna's constrained TPE split good from bad trials: feasible points
    /// (violation 0) by non-dominated rank, within a front by hypervolume contribution, largest first (against the
    /// front's worst point scaled by 1.1, Optuna's reference), then infeasible points by violation, least first. Ties
    /// keep the points' order.
    /// </summary>
    public static int[] BestFirst(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<double> violations)
    {
        var feasible = Enumerable.Range(0, points.Count).Where(i => violations[i] == 0).ToArray();
        var ranks = Ranks(feasible.Select(i => points[i]).ToArray());
        var order = new List<int>(points.Count);
        foreach (var front in Enumerable.Range(0, feasible.Length).GroupBy(j => ranks[j]).OrderBy(g => g.Key))
        {
            var members = front.Select(j => feasible[j]).ToArray();
            var memberPoints = members.Select(i => points[i]).ToArray();
            var reference = Enumerable.Range(0, memberPoints[0].Count)
                .Select(k => memberPoints.Max(p => p[k]) is var worst && worst == 0 ? 1e-12 : Math.Max(1.1 * worst, 0.9 * worst)).ToArray();
            var contributions = Hypervolume.Contributions(memberPoints, reference);
            order.AddRange(Enumerable.Range(0, members.Length).OrderByDescending(j => contributions[j]).ThenBy(j => members[j]).Select(j => members[j]));
        }
        order.AddRange(Enumerable.Range(0, points.Count).Where(i => violations[i] != 0).OrderBy(i => violations[i]).ThenBy(i => i));
        return order.ToArray();
    }
}
