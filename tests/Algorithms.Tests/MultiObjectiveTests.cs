using Tuning.Algorithms.MultiObjective;

namespace Tuning.Algorithms.Tests;

public sealed class MultiObjectiveTests
{
    private static IReadOnlyList<double>[] Points(params double[][] points) => points;

    [Fact]
    public void Ranks_peel_fronts_off_one_after_another()
    {
        // (1,1) and (3,0) are not dominated; (2,2) and (1,3) only by (1,1); (3,3) by (2,2) too.
        var ranks = Pareto.Ranks(Points([1, 1], [2, 2], [1, 3], [3, 0], [3, 3]));
        Assert.Equal([0, 1, 1, 0, 2], ranks);
        Assert.Equal([0, 3], Pareto.NonDominated(Points([1, 1], [2, 2], [1, 3], [3, 0], [3, 3])));
    }

    [Fact]
    public void Equal_points_do_not_dominate_each_other()
    {
        Assert.False(Pareto.Dominates([1, 2], [1, 2]));
        Assert.Equal([0, 0], Pareto.Ranks(Points([1, 2], [1, 2])));
    }

    [Fact]
    public void Constraint_dominance_puts_feasible_points_first_and_then_the_least_violation()
    {
        // The best point in loss breaks a constraint by 0.5: every feasible point ranks before it, and of the two
        // infeasible points the one that breaks less ranks first.
        var ranks = Pareto.Ranks(Points([0, 0], [2, 2], [1, 3], [0, 1]), [0.5, 0, 0, 0.2]);
        Assert.Equal([2, 0, 0, 1], ranks);
    }

    [Fact]
    public void Best_first_takes_fronts_in_rank_order_each_by_hypervolume_contribution_then_the_least_violation()
    {
        // Front 0 is A(1,3), B(2,2), C(3,0.5) under reference (3.3, 3.3): alone, A covers 1·0.3, B 1·1 and C 0.3·1.5.
        // D(3,3) is the next front; E and F break constraints, F by less.
        var order = Pareto.BestFirst(Points([1, 3], [2, 2], [3, 0.5], [3, 3], [0, 0], [0, 1]), [0, 0, 0, 0, 2, 1]);
        Assert.Equal([1, 2, 0, 3, 5, 4], order);
    }

    [Fact]
    public void Crowding_distance_is_the_scaled_gap_between_neighbours_with_extremes_infinite()
    {
        var distances = Pareto.CrowdingDistances(Points([0, 4], [1, 2], [3, 1], [4, 0]));
        // (1,2): (3-0)/4 + (4-1)/4 = 1.5; (3,1): (4-1)/4 + (2-0)/4 = 1.25.
        Assert.Equal([double.PositiveInfinity, 1.5, 1.25, double.PositiveInfinity], distances);
    }

    [Fact]
    public void Two_objective_hypervolume_is_the_staircase_area()
    {
        // Columns x in [1,2], [2,3], [3,4] under reference (4,4) are 1, 2 and 3 high.
        Assert.Equal(6, Hypervolume.Of(Points([1, 3], [2, 2], [3, 1]), [4, 4]), 12);
        // A dominated point, a duplicate and a point beyond the reference add nothing.
        Assert.Equal(6, Hypervolume.Of(Points([1, 3], [2, 2], [3, 1], [3, 3], [2, 2], [0, 5]), [4, 4]), 12);
        Assert.Equal(0, Hypervolume.Of(Points(), [4, 4]));
    }

    [Fact]
    public void Three_objective_hypervolume_matches_inclusion_exclusion_by_hand()
    {
        // Three boxes of volume 6 each, pairwise overlaps of 2 and a common cube of 1: 18 - 6 + 1.
        Assert.Equal(13, Hypervolume.Of(Points([1, 2, 3], [2, 3, 1], [3, 1, 2]), [4, 4, 4]), 12);
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    public void Hypervolume_matches_inclusion_exclusion_on_random_points(int objectives, int seed)
    {
        var random = new Random(seed);
        var points = Enumerable.Range(0, 7).Select(_ => (IReadOnlyList<double>)Enumerable.Range(0, objectives).Select(_ => random.NextDouble()).ToArray()).ToArray();
        var reference = Enumerable.Repeat(1.1, objectives).ToArray();
        Assert.Equal(InclusionExclusion(points, reference), Hypervolume.Of(points, reference), 10);
    }

    [Fact]
    public void Contributions_are_each_points_exclusive_volume()
    {
        // Each point of the staircase alone covers one unit square; the dominated point covers nothing alone.
        Assert.Equal([1, 1, 1, 0], Hypervolume.Contributions(Points([1, 3], [2, 2], [3, 1], [3, 3]), [4, 4]));
    }

    [Fact]
    public void Derived_reference_lies_a_tenth_of_the_range_beyond_the_worst_value()
    {
        Assert.Equal([4.3, 3], Hypervolume.DerivedReference(Points([1, 2], [4, 2])));
    }

    [Fact]
    public void Chebyshev_scalarisation_scales_each_objective_to_the_unit_range_and_adds_a_little_of_the_sum()
    {
        // Objective 0 spans 0..10, objective 1 spans 1..3; weights (0.25, 0.75).
        var scalarised = Chebyshev.Scalarise(Points([0, 3], [10, 1], [5, 2]), [0.25, 0.75]);
        // (0, 1) -> max(0, 0.75) + 0.05·0.75; (1, 0) -> 0.25 + 0.05·0.25; (0.5, 0.5) -> 0.375 + 0.05·0.5.
        Assert.Equal([0.7875, 0.2625, 0.4], scalarised.Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void Chebyshev_weights_lie_on_the_simplex()
    {
        var random = new Random(4);
        for (var i = 0; i < 100; i++)
        {
            var weights = Chebyshev.RandomWeights(3, random);
            Assert.Equal(1, weights.Sum(), 12);
            Assert.All(weights, w => Assert.InRange(w, 0, 1));
        }
    }

    /// <summary>The union of the boxes by inclusion and exclusion over every subset: slow, and plainly right.</summary>
    private static double InclusionExclusion(IReadOnlyList<IReadOnlyList<double>> points, double[] reference)
    {
        var total = 0.0;
        for (var subset = 1; subset < 1 << points.Count; subset++)
        {
            var corner = new double[reference.Length];
            var size = 0;
            for (var i = 0; i < points.Count; i++)
                if ((subset >> i & 1) == 1)
                {
                    size++;
                    for (var k = 0; k < corner.Length; k++) corner[k] = Math.Max(corner[k], points[i][k]);
                }
            var volume = 1.0;
            for (var k = 0; k < corner.Length; k++) volume *= Math.Max(0, reference[k] - corner[k]);
            total += size % 2 == 1 ? volume : -volume;
        }
        return total;
    }
}
