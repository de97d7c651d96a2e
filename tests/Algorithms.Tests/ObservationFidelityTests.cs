using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

/// <summary>Trials stopped early as the bayesian suggester models them: every trial, with how far it trained as one more input.</summary>
public class ObservationFidelityTests
{
    private static Dictionary<string, ParameterValue> X(double x) => new() { ["x"] = ParameterValue.Of(x) };

    /// <summary>A trial at <paramref name="x"/> whose loss is <paramref name="at"/>(step) at steps 1..<paramref name="last"/>.</summary>
    private static Observation Trial(double x, int last, Func<int, double> at, bool stopped) =>
        new(X(x), at(last), stopped ? last : null, Enumerable.Range(1, last).Select(s => new CurvePoint(s, at(s))).ToArray());

    private static readonly SearchSpace Line = new([new DoubleParameter("x", 0, 10)]);

    private static ISuggester Bayesian(int seed = 4) => AlgorithmCatalog.Find("bayesian")!.Create(new Dictionary<string, string>(), Line, seed);

    [Fact]
    public void Without_stopped_trials_every_finite_observation_is_modelled_as_it_is()
    {
        Observation[] observations = [new(X(1), 0.5), new(X(2), null), new(X(3), double.NaN), new(X(4), 0.7)];
        var (observed, fidelities) = ObservationFidelity.WithFidelity(observations);
        Assert.Equal([observations[0], observations[3]], observed);
        Assert.Null(fidelities);
    }

    [Fact]
    public void A_finished_trial_is_at_fidelity_one_a_stopped_one_at_its_log_step_over_the_longest_curves()
    {
        // Finished to step 9: 1; stopped at 3: log 4 / log 10; at 1: log 2 / log 10. A failed trial is left out.
        Observation[] observations = [Trial(0, 9, s => 1.0 / s, stopped: false), Trial(1, 3, s => 2.0 / s, stopped: true),
            Trial(2, 1, s => 3.0 / s, stopped: true), new(X(3), null, StoppedAt: 2)];
        var (observed, fidelities) = ObservationFidelity.WithFidelity(observations);
        Assert.Equal(observations[..3], observed);
        Assert.Equal([1, Math.Log(4) / Math.Log(10), Math.Log(2) / Math.Log(10)], fidelities!, (a, b) => Math.Abs(a - b) < 1e-12);
        // Before any trial has finished, the furthest stopped trial is the longest run seen.
        Assert.Equal([1, Math.Log(2) / Math.Log(4)], ObservationFidelity.WithFidelity(observations[1..3]).Fidelities!, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Model_inputs_carry_the_fidelity_last_and_hold_it_in_local_search()
    {
        var inputs = new ModelInputs(new SearchSpace([new DoubleParameter("x", 0, 1), new CategoricalParameter("c", ["a", "b", "c"])]), fidelity: true);
        Assert.Equal([0.25, 2, 0.5], inputs.ToFeatures([0.25, 0.9], 0.5));
        Assert.Equal([0.25, 2, 1], inputs.AtFull([0.25, 2, 0.5]));
        Assert.Equal([0.25, 2.5 / 3], inputs.FromFeatures([0.25, 2, 0.5]));
        Assert.Equal([false, true, true], inputs.Fixed);
        Assert.Equal([false, true, false], inputs.Categorical);
    }

    [Fact]
    public void Bayesian_follows_the_finished_trials_not_the_early_values_of_stopped_ones()
    {
        // Finished trials (curves to step 9) say the optimum is near x = 8; twenty trials stopped at step 1 over x < 5
        // reported far lower values there. Taken as final values, they would keep the search below 5.
        var finished = new[] { 0, 2, 4, 6, 7, 8.5, 9, 10 }.Select(x => Trial(x, 9, _ => Math.Pow(x - 8, 2), stopped: false));
        var stopped = Enumerable.Range(0, 20).Select(i => Trial(0.25 + i * 0.23, 1, _ => -100, stopped: true));
        var suggester = Bayesian();
        var observations = finished.Concat(stopped).ToArray();
        foreach (var trial in Enumerable.Range(28, 3))
            Assert.InRange(suggester.Suggest(new SuggestionContext(trial, observations, []))!["x"].Number, 5.5, 10);
    }

    [Fact]
    public void Bayesian_reads_where_short_runs_foretell_the_full_ones()
    {
        // Curves (x - 7)² + 30/s: every run learns alike, so the best short runs are where the best full ones will be.
        // Three finished runs far from 7 and twenty runs stopped at step 3 over the line: the model, told the steps,
        // carries the short runs' shape to the full fidelity and suggests near 7, where no run was finished.
        double Loss(double x, int s) => Math.Pow(x - 7, 2) + 30.0 / s;
        var finished = new[] { 0.5, 2, 3.5 }.Select(x => Trial(x, 27, s => Loss(x, s), stopped: false));
        var stopped = Enumerable.Range(0, 20).Select(i => Trial(0.2 + i * 0.5, 3, s => Loss(0.2 + i * 0.5, s), stopped: true));
        var observations = finished.Concat(stopped).ToArray();
        var suggestion = Bayesian().Suggest(new SuggestionContext(23, observations, []))!["x"].Number;
        Assert.InRange(suggestion, 5.5, 8.5);
        // Seeded: a fresh suggester with the same seed suggests the same.
        Assert.Equal(suggestion, Bayesian().Suggest(new SuggestionContext(23, observations, []))!["x"].Number);
    }
}
