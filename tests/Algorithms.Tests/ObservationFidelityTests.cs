using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

/// <summary>Trials stopped early as the bayesian suggester models them: one fidelity, the highest with enough observations.</summary>
public class ObservationFidelityTests
{
    private static Dictionary<string, ParameterValue> X(double x) => new() { ["x"] = ParameterValue.Of(x) };

    /// <summary>A trial at <paramref name="x"/> whose loss is <paramref name="at"/>(step) at steps 1..<paramref name="last"/>.</summary>
    private static Observation Trial(double x, int last, Func<int, double> at, bool stopped) =>
        new(X(x), at(last), stopped ? last : null, Enumerable.Range(1, last).Select(s => new CurvePoint(s, at(s))).ToArray());

    [Fact]
    public void Without_stopped_trials_every_finite_observation_is_modelled_as_it_is()
    {
        Observation[] observations = [new(X(1), 0.5), new(X(2), null), new(X(3), double.NaN), new(X(4), 0.7)];
        Assert.Equal([observations[0], observations[3]], ObservationFidelity.Highest(observations, dimensions: 1));
    }

    [Fact]
    public void Enough_finished_trials_are_modelled_alone()
    {
        // One parameter: four observations are enough (d + 3). Four finished trials; stopped ones are left out.
        var finished = Enumerable.Range(0, 4).Select(i => Trial(i, 9, s => 10 - s + i, stopped: false)).ToArray();
        var stopped = Enumerable.Range(0, 6).Select(i => Trial(5 + i * 0.1, 1, _ => -100, stopped: true));
        Assert.Equal(finished, ObservationFidelity.Highest([.. finished, .. stopped], dimensions: 1));
    }

    [Fact]
    public void Before_that_the_highest_step_enough_trials_reached_each_valued_there()
    {
        // Two finished (to step 9), three stopped at step 3, five at step 1: step 3 is reached by five, enough; each is
        // valued at step 3 (a finished trial's 3 + i, not its final 1 + i); those stopped at step 1 are left out.
        var finished = Enumerable.Range(0, 2).Select(i => Trial(i, 9, s => 10 - s + i, stopped: false));
        var atThree = Enumerable.Range(0, 3).Select(i => Trial(2 + i, 3, s => 20 - s, stopped: true));
        var atOne = Enumerable.Range(0, 5).Select(i => Trial(6 + i * 0.1, 1, _ => -100, stopped: true));
        var modelled = ObservationFidelity.Highest([.. finished, .. atThree, .. atOne], dimensions: 1);
        Assert.Equal([0.0, 1, 2, 3, 4], modelled.Select(o => o.Parameters["x"].Number));
        Assert.Equal([7.0, 8, 17, 17, 17], modelled.Select(o => o.Loss!.Value));
        // With no step reached by enough, every trial at its last value.
        Assert.Equal(10, ObservationFidelity.Highest([.. finished, .. atThree, .. atOne], dimensions: 3).Count);
    }

    [Fact]
    public void Bayesian_follows_the_finished_trials_not_the_early_values_of_stopped_ones()
    {
        // Finished trials say the optimum is near x = 8; twenty trials stopped at step 1 over x < 5 reported far lower
        // values there. Taken as final values (as before), they would keep the search below 5.
        var finished = new[] { 0, 2, 4, 6, 7, 8.5, 9, 10 }.Select(x => new Observation(X(x), Math.Pow(x - 8, 2)));
        var stopped = Enumerable.Range(0, 20).Select(i => new Observation(X(0.25 + i * 0.23), -100, StoppedAt: 1));
        var suggester = AlgorithmCatalog.Find("bayesian")!.Create(new Dictionary<string, string>(), new SearchSpace([new DoubleParameter("x", 0, 10)]), 4);
        var observations = finished.Concat(stopped).ToArray();
        foreach (var trial in Enumerable.Range(25, 3))
            Assert.InRange(suggester.Suggest(new SuggestionContext(trial, observations, []))!["x"].Number, 5.5, 10);
    }
}
