using Tuning.Algorithms.MultiObjective;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>The settings of <c>tpe</c>, with Optuna's defaults.</summary>
/// <param name="StartupTrials">Random trials before the estimators are used (Optuna: 10).</param>
/// <param name="Candidates">Samples from l(x) scored by l(x)/g(x) per suggestion (Optuna: 24).</param>
/// <param name="Multivariate">One joint estimator over all parameters instead of one per parameter (Falkner et al., BOHB).</param>
/// <param name="PriorWeight">Weight of the prior component in each mixture (Optuna: 1).</param>
/// <param name="ConstantLiar">Running trials enter g(x) as if they had finished with the worst loss, so parallel
/// suggestions avoid each other (Optuna's <c>constant_liar</c>). Default true, where Optuna's is false: with one trial
/// at a time there is nothing running and it changes nothing, and with 8 at once it halved the regret at the same
/// number of trials (`regret --suite parallel`: Hartmann6 0.56 to 0.28, Branin 0.63 to 0.33).</param>
public sealed record TpeSettings(int StartupTrials, int Candidates, bool Multivariate, double PriorWeight, bool ConstantLiar = true)
{
    public static TpeSettings Read(SettingsReader reader) => new(
        reader.Int("startupTrials", 10, 0),
        reader.Int("candidates", 24, 1, 100_000),
        reader.Bool("multivariate", false),
        reader.Double("priorWeight", 1.0, 1e-6, 1e6),
        reader.Bool("constantLiar", true));
}

/// <summary>
/// The Tree-structured Parzen Estimator (Bergstra et al., "Algorithms for hyper-parameter optimization",
/// NeurIPS 2011) as Optuna 3.1's <c>TPESampler</c> runs it with its defaults, step by step:
/// <list type="bullet">
/// <item>the first <c>startupTrials</c> trials are uniform in each parameter's internal range (Optuna's random
/// sampler: log space on log scales, bounds widened by half a step on discretised parameters);</item>
/// <item>after that, the γ(n) = min(⌈0.1·n⌉, 25) best finished trials (stopped ones after those that ran to their
/// end, by the step they reached, then value) form l(x) and the rest g(x), each kept in
/// trial order so that <see cref="ParzenEstimator.DefaultWeights"/> can weigh old ones less; failed trials are
/// left out, and n counts finished trials only, never running ones;</item>
/// <item>with <c>constantLiar</c>, running trials join g(x) as the worst trials of all (Optuna ranks them after
/// every finished trial), after the finished ones;</item>
/// <item>each parameter has its own pair of estimators (univariate) unless <c>multivariate</c>: see
/// <see cref="ParzenEstimator"/> for kernels, bandwidths, the prior and the categorical rows;</item>
/// <item><c>candidates</c> points are drawn from l(x), snapped to values a trial can run (rounded ints and
/// steps), and the one with the largest log l(x) − log g(x) wins, the first on ties.</item>
/// </list>
/// With several objectives (MOTPE) or constraints, the γ(n) best trials are taken as Optuna 3.1 takes them
/// (<see cref="MultiObjective.Pareto.BestFirst"/>): feasible trials by non-dominated rank, a front split by hypervolume
/// contribution, then infeasible ones by violation; l(x) weighs its trials as with one objective, where MOTPE weighs
/// them by hypervolume contribution.
/// Differences from Optuna left on purpose: the random stream is derived from the seed and the trial number
/// (so suggestions are reproducible on resume, not from one sampler-wide stream); trials with a non-finite loss
/// are left out like failed ones; listed numeric values (<see cref="DiscreteParameter"/>, which Optuna lacks)
/// are modelled as an int over their index.
/// </summary>
public sealed class TpeSuggester(SearchSpace space, int seed, TpeSettings settings) : ISuggester
{
    private readonly ParzenDomain[] _domains = space.Parameters.Select(ParzenDomain.For).ToArray();

    /// <summary>Optuna's <c>default_gamma</c>: how many of n finished trials form l(x).</summary>
    public static int Gamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), 25);

    /// <summary>Optuna's <c>default_weights</c>; see <see cref="ParzenEstimator.DefaultWeights"/>.</summary>
    public static double[] Weights(int count) => ParzenEstimator.DefaultWeights(count);

    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context)
    {
        var random = new Random(Seeds.ForTrial(seed, context.TrialNumber));
        var observed = Observation.WithEveryObjective(context.Completed).Where(o => o.Objectives!.All(double.IsFinite)).ToArray();
        var values = new ParameterValue[space.Dimensions];
        if (observed.Length < settings.StartupTrials)
        {
            for (var j = 0; j < values.Length; j++) values[j] = _domains[j].Draw(random).Value;
            return ToDictionary(values);
        }

        var points = observed.Select(o => ToInternal(o.Parameters)).ToList();
        // Several objectives or constraints: MOTPE's split and Optuna's constrained TPE's (Pareto.BestFirst). One objective:
        // ranked as Optuna 3.1 ranks trials (_get_observation_pairs): every trial that ran to its end before any stopped
        // early, and among those the further it got the better, then the lower its value: a value after 3 epochs says
        // less than one after 27, and neither competes with a finished run's.
        var ranked = observed.Any(o => o.Losses is not null)
            ? Pareto.BestFirst(observed.Select(o => o.Objectives!).ToArray(), observed.Select(o => o.Violation).ToArray())
            : Enumerable.Range(0, observed.Length)
                .OrderBy(i => observed[i].StoppedAt is null ? 0 : 1)
                .ThenByDescending(i => observed[i].StoppedAt ?? 0)
                .ThenBy(i => observed[i].Loss!.Value).ToArray();
        var belowCount = Gamma(observed.Length);
        var below = ranked.Take(belowCount).Order().Select(i => points[i]).ToArray();
        var above = ranked.Skip(belowCount).Order().Select(i => points[i]).ToList();
        // Optuna's constant_liar: running trials get the worst score of all, so they always fall in g(x); n and
        // γ(n) still count finished trials only. They go last (Optuna orders g by trial number; running trials
        // are the newest, so with more than 25 in g they keep full weight).
        if (settings.ConstantLiar) above.AddRange(context.Pending.Select(ToInternal));

        var groups = settings.Multivariate
            ? [Enumerable.Range(0, space.Dimensions).ToArray()]
            : Enumerable.Range(0, space.Dimensions).Select(j => new[] { j }).ToArray();
        foreach (var dimensions in groups)
        {
            var domains = dimensions.Select(j => _domains[j]).ToArray();
            var good = new ParzenEstimator(domains, below.Select(p => dimensions.Select(j => p[j]).ToArray()).ToArray(), settings.PriorWeight, settings.Multivariate);
            var bad = new ParzenEstimator(domains, above.Select(p => dimensions.Select(j => p[j]).ToArray()).ToArray(), settings.PriorWeight, settings.Multivariate);
            ParameterValue[]? best = null;
            var bestScore = double.NegativeInfinity;
            for (var c = 0; c < settings.Candidates; c++)
            {
                var (point, candidate) = good.Sample(random);
                var score = good.LogPdf(point) - bad.LogPdf(point);
                if (best is null || score > bestScore)
                {
                    bestScore = score;
                    best = candidate;
                }
            }
            for (var k = 0; k < dimensions.Length; k++) values[dimensions[k]] = best![k];
        }
        return ToDictionary(values);
    }

    private double[] ToInternal(IReadOnlyDictionary<string, ParameterValue> parameters)
    {
        var point = new double[space.Dimensions];
        for (var j = 0; j < point.Length; j++) point[j] = _domains[j].ToInternal(parameters[space.Parameters[j].Name]);
        return point;
    }

    private Dictionary<string, ParameterValue> ToDictionary(ParameterValue[] values)
    {
        var result = new Dictionary<string, ParameterValue>(values.Length);
        for (var j = 0; j < values.Length; j++) result[space.Parameters[j].Name] = values[j];
        return result;
    }
}
