using Tuning.Algorithms.Acquisition;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.MultiObjective;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

/// <summary>Expected hypervolume improvement: the boxes, the exact expectation, its logarithm, and bayesian's use of it.</summary>
public sealed class HypervolumeImprovementTests
{
    private static readonly IReadOnlyList<double>[] Staircase = [[1, 3], [2, 2], [3, 1]];

    [Fact]
    public void Improvement_of_a_point_is_the_volume_the_front_leaves_it()
    {
        // (1.5, 1.5) dominates 2.5 × 2.5 = 6.25 up to (4, 4); the front already covers 2.5 + 2 + 0.5 = 5 of that.
        var boxes = new NonDominatedBoxes(Staircase, [4, 4]);
        Assert.Equal(1.25, boxes.Improvement([1.5, 1.5]), 12);
        Assert.Equal(0, boxes.Improvement([2.5, 2.5]), 12);
        Assert.Equal(Hypervolume.Of([.. Staircase, [0.5, 2.5]], [4, 4]) - Hypervolume.Of(Staircase, [4, 4]), boxes.Improvement([0.5, 2.5]), 12);
        // Three objectives: (1, 3, 3) dominates 3 × 1 × 1 up to (4, 4, 4), of which (2, 2, 2)'s cube covers 2 × 1 × 1.
        Assert.Equal(1, new NonDominatedBoxes([[2, 2, 2]], [4, 4, 4]).Improvement([1, 3, 3]), 12);
    }

    [Fact]
    public void With_one_box_the_expectation_is_the_product_of_one_dimensional_expected_improvements()
    {
        // No front point inside the reference box: one box below (0, 0). Each objective N(0, 1) improves on 0 by
        // E[(0 − Y)⁺] = φ(0) = 1/√(2π), so EHVI = 1/(2π).
        var boxes = new NonDominatedBoxes([[5, 5]], [0, 0]);
        Assert.Single(boxes.Boxes);
        Assert.Equal(Math.Log(1 / (2 * Math.PI)), LogExpectedHypervolumeImprovement.Compute(boxes, [0, 0], [1, 1]), 10);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Exact_expectation_agrees_with_a_monte_carlo_average_of_the_improvement(int objectives)
    {
        IReadOnlyList<double>[] front = objectives == 2 ? Staircase : [[1, 3, 2], [2, 2, 3], [3, 1, 1], [2.5, 2.5, 0.5]];
        double[] reference = objectives == 2 ? [4, 4] : [4, 4, 4];
        double[] means = objectives == 2 ? [2.2, 1.9] : [2.2, 1.9, 1.6];
        double[] sds = objectives == 2 ? [0.7, 1.1] : [0.7, 1.1, 0.9];
        var boxes = new NonDominatedBoxes(front, reference);
        var random = new Random(7);
        const int draws = 400_000;
        var sum = 0.0;
        var y = new double[objectives];
        for (var i = 0; i < draws; i++)
        {
            for (var k = 0; k < objectives; k++) y[k] = means[k] + sds[k] * GpPriors.Gaussian(random);
            sum += boxes.Improvement(y);
        }
        var exact = Math.Exp(LogExpectedHypervolumeImprovement.Compute(boxes, means, sds));
        Assert.InRange(sum / draws / exact, 0.99, 1.01);
    }

    [Fact]
    public void Far_from_the_front_the_logarithm_stays_finite_and_still_slopes_towards_it()
    {
        var boxes = new NonDominatedBoxes(Staircase, [4, 4]);
        var far = LogExpectedHypervolumeImprovement.Compute(boxes, [60, 60], [0.5, 0.5]);
        var farther = LogExpectedHypervolumeImprovement.Compute(boxes, [80, 80], [0.5, 0.5]);
        Assert.True(double.IsFinite(far) && double.IsFinite(farther), $"{far}, {farther}");
        Assert.True(far > farther + 100, $"{far}, {farther}");
        // EHVI itself underflows there: the log is the only signal left.
        Assert.Equal(0, Math.Exp(far));
    }

    [Fact]
    public void Gradient_agrees_with_finite_differences_near_and_far_from_the_front()
    {
        double[][] x = [[0.1, 0.2], [0.5, 0.9], [0.8, 0.3], [0.3, 0.6], [0.9, 0.8]];
        var hyperparameters = new GpHyperparameters([Math.Log(0.4), Math.Log(0.6)], 0, Math.Log(1e-4));
        GaussianProcess Model(Func<double[], double> f) => GaussianProcess.Create(x, x.Select(f).ToArray(), [false, false], hyperparameters);
        var models = new[] { Model(p => p[0] - 0.5), Model(p => 0.5 - p[0] * p[1]) };
        foreach (var front in new IReadOnlyList<double>[][] { [[-0.4, 0.3], [0.2, -0.2]], [[-9, -9]] })
        {
            var acquisition = new LogExpectedHypervolumeImprovement(models, new NonDominatedBoxes(front, [1, 1]));
            double[] point = [0.45, 0.55];
            var gradient = new double[2];
            var value = acquisition.Value(point, gradient);
            Assert.Equal(acquisition.Value(point), value, 12);
            for (var j = 0; j < 2; j++)
            {
                var (up, down) = ((double[])point.Clone(), (double[])point.Clone());
                up[j] += 1e-6;
                down[j] -= 1e-6;
                var numeric = (acquisition.Value(up) - acquisition.Value(down)) / 2e-6;
                Assert.True(Math.Abs(numeric - gradient[j]) <= 1e-4 * Math.Max(1, Math.Abs(numeric)), $"front {front.Length}, {j}: {gradient[j]} against {numeric}");
            }
        }
    }

    private static ISuggester Bayesian(MultiObjectiveProblem problem, int seed) =>
        AlgorithmCatalog.Find("bayesian")!.Create(new Dictionary<string, string>(), problem.Space, seed, 30);

    [Fact]
    public void A_suggestion_is_a_function_of_the_seed_and_the_observations_pending_trials_included()
    {
        var problem = MultiObjectiveProblem.Zdt1(3);
        var observed = problem.Run(Bayesian(problem, 4), 14);
        var pending = new[] { observed[^1].Parameters };
        var context = new SuggestionContext(14, observed[..^1], pending);
        var first = Bayesian(problem, 4).Suggest(context)!;
        Assert.Equal(first, Bayesian(problem, 4).Suggest(context)!);
        Assert.NotEqual(first, Bayesian(problem, 5).Suggest(context)!);
        Assert.NotEqual(pending[0], first);
    }

    [Fact]
    public void Past_200_observations_a_resumed_suggester_suggests_what_one_that_ran_throughout_does()
    {
        // From 200 observations on each objective's model is the checkpoint's, extended observation by observation by a
        // suggester that keeps it, factorised afresh by one that starts after a restart: the same factor, the same suggestion.
        var problem = MultiObjectiveProblem.Zdt1(3);
        var observed = problem.Run(new RandomSuggester(problem.Space, 2), 206);
        var throughout = Bayesian(problem, 4);
        foreach (var n in new[] { 200, 203 }) throughout.Suggest(new SuggestionContext(n, observed[..n], []));
        var last = new SuggestionContext(206, observed, []);
        Assert.Equal(Bayesian(problem, 4).Suggest(last)!, throughout.Suggest(last)!);
    }

    [Fact]
    public void Bayesian_beats_random_search_with_three_objectives()
    {
        var problem = MultiObjectiveProblem.Dtlz2(4, 3);
        double[] reference = [1.1, 1.1, 1.1];
        var bayesian = MultiObjectiveProblem.Hypervolume(problem.Run(Bayesian(problem, 1), 30), reference);
        var random = MultiObjectiveProblem.Hypervolume(problem.Run(new RandomSuggester(problem.Space, 1), 30), reference);
        Assert.True(bayesian > random * 1.2, $"bayesian {bayesian}, random {random}");
    }
}
