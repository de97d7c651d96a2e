using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

public class RecommendationTests
{
    private static readonly SearchSpace Line = new([new DoubleParameter("x", 0, 1)]);

    private static Observation At(double x, double? loss) => new(new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(x) }, loss);

    [Fact]
    public void With_a_noisy_metric_it_recommends_a_good_point_rather_than_the_luckiest_draw()
    {
        // (x − 0.5)² observed with noise of standard deviation about 0.1 (a fixed, irregular pattern): the lowest
        // observed value lies away from 0.5, where a lucky draw landed.
        static double True(double x) => (x - 0.5) * (x - 0.5);
        var observations = Enumerable.Range(0, 40).Select(i => At(i / 39.0, True(i / 39.0) + 0.14 * Math.Sin(41.0 * i))).ToArray();
        var luckiest = Enumerable.Range(0, 40).MinBy(i => observations[i].Loss!.Value);
        var recommended = Recommendation.Best(Line, observations)!;
        Assert.True(recommended.ModelLearnt);
        var x = observations[recommended.Index].Parameters["x"].Number;
        Assert.True(True(x) < True(observations[luckiest].Parameters["x"].Number) / 4, $"recommended x = {x}, luckiest x = {observations[luckiest].Parameters["x"].Number}");
        Assert.InRange(x, 0.35, 0.65);
    }

    [Fact]
    public void With_a_noiseless_metric_it_recommends_the_best_observed_trial()
    {
        var observations = Enumerable.Range(0, 25).Select(i => At(i / 24.0, Math.Sin(6 * i / 24.0) + i / 24.0)).ToArray();
        var best = Enumerable.Range(0, 25).MinBy(i => observations[i].Loss!.Value);
        Assert.Equal(best, Recommendation.Best(Line, observations)?.Index);
    }

    [Fact]
    public void Failed_trials_are_never_recommended_and_too_few_results_give_the_best_observed()
    {
        Assert.Null(Recommendation.Best(Line, [At(0.1, null), At(0.2, double.NaN)]));
        Assert.Equal(new RecommendedPoint(2, ModelLearnt: false), Recommendation.Best(Line, [At(0.1, null), At(0.2, 3), At(0.3, 1)]));
        var withFailures = Enumerable.Range(0, 12).Select(i => At(i / 11.0, i % 3 == 0 ? null : Math.Abs(i / 11.0 - 0.4))).ToArray();
        var recommended = Recommendation.Best(Line, withFailures)!.Index;
        Assert.NotNull(withFailures[recommended].Loss);
    }

    [Fact]
    public void Results_the_model_reads_as_noise_recommend_the_best_observed_trial_and_say_the_model_learnt_nothing()
    {
        // Independent draws, nothing to learn from x: the posterior means are nearly equal, their order noise.
        var noise = new Random(3);
        foreach (var count in new[] { 30, 60, 120 })
        {
            var observations = Enumerable.Range(0, count).Select(i => At(noise.NextDouble(), noise.NextDouble())).ToArray();
            var best = Enumerable.Range(0, count).MinBy(i => observations[i].Loss!.Value);
            Assert.Equal(new RecommendedPoint(best, ModelLearnt: false), Recommendation.Best(Line, observations));
        }
    }
}
