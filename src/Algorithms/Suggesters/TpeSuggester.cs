using Tuning.Algorithms.Sampling;
using MathNet.Numerics.Distributions;
using Tuning.Algorithms.Numerics;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>The settings of <c>tpe</c>, with Optuna's defaults.</summary>
/// <param name="StartupTrials">Random trials before the estimators are used (Optuna: 10).</param>
/// <param name="Candidates">Samples from l(x) scored by l(x)/g(x) per suggestion (Optuna: 24).</param>
/// <param name="Multivariate">One joint estimator over all parameters instead of one per parameter (Falkner et al., BOHB).</param>
/// <param name="PriorWeight">Weight of the uniform prior component in each mixture (Optuna: 1).</param>
public sealed record TpeSettings(int StartupTrials, int Candidates, bool Multivariate, double PriorWeight)
{
    public static TpeSettings Read(SettingsReader reader) => new(
        reader.Int("startupTrials", 10, 0),
        reader.Int("candidates", 24, 1, 100_000),
        reader.Bool("multivariate", false),
        reader.Double("priorWeight", 1.0, 1e-6, 1e6));
}

/// <summary>
/// The Tree-structured Parzen Estimator (Bergstra et al., "Algorithms for hyper-parameter optimization",
/// NeurIPS 2011) as Optuna configures it: the best γ(n) = min(⌈0.1·n⌉, 25) observations form l(x), the rest
/// g(x), each a mixture of truncated Gaussians on the unit interval (categorical kernels for categorical
/// parameters) plus a uniform prior; older observations weigh less once there are more than 25; bandwidths
/// follow Optuna's neighbour rule with its "magic clip", or Scott's rule in the multivariate variant.
/// Candidates drawn from l(x) are ranked by log l(x) − log g(x).
/// </summary>
public sealed class TpeSuggester(SearchSpace space, int seed, TpeSettings settings) : ISuggester
{
    private readonly TpeSettings _settings = settings;
    private readonly bool[] _categorical = space.Parameters.Select(p => p.IsCategorical).ToArray();
    private readonly int[] _categories = space.Parameters.Select(p => p is CategoricalParameter c ? c.Values.Length : 0).ToArray();

    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context)
    {
        var random = new Random(Seeds.ForTrial(seed, context.TrialNumber));
        var observed = context.Completed.Where(o => o.Loss is { } loss && double.IsFinite(loss)).ToArray();
        if (observed.Length < Math.Max(_settings.StartupTrials, 2))
            return space.FromUnit(UniformPoint.Draw(random, space.Dimensions));

        var points = observed.Select(o => space.ToUnit(o.Parameters)).ToArray();
        var belowCount = Math.Min((int)Math.Ceiling(0.1 * observed.Length), 25);
        var ranked = Enumerable.Range(0, observed.Length).OrderBy(i => observed[i].Loss!.Value).ToArray();
        var below = ranked.Take(belowCount).Order().ToArray();
        var above = ranked.Skip(belowCount).Order().ToArray();

        var groups = _settings.Multivariate
            ? [Enumerable.Range(0, space.Dimensions).ToArray()]
            : Enumerable.Range(0, space.Dimensions).Select(j => new[] { j }).ToArray();
        var result = new double[space.Dimensions];
        foreach (var dimensions in groups)
        {
            var good = new ParzenEstimator(this, dimensions, below.Select(i => points[i]).ToArray());
            var bad = new ParzenEstimator(this, dimensions, above.Select(i => points[i]).ToArray());
            double[]? best = null;
            var bestScore = double.NegativeInfinity;
            for (var c = 0; c < _settings.Candidates; c++)
            {
                var candidate = good.Sample(random);
                var score = good.LogDensity(candidate) - bad.LogDensity(candidate);
                if (score > bestScore || best is null)
                {
                    bestScore = score;
                    best = candidate;
                }
            }
            for (var k = 0; k < dimensions.Length; k++) result[dimensions[k]] = best![k];
        }
        return space.FromUnit(result);
    }

    /// <summary>
    /// Optuna's default weights: all ones up to 25 observations; beyond, a linear ramp from 1/n for the oldest
    /// to 1 for the 25 most recent, so the estimator follows the search as it moves.
    /// </summary>
    public static double[] Weights(int count) =>
        count <= 25
            ? Enumerable.Repeat(1.0, count).ToArray()
            : [.. Enumerable.Range(0, count - 25).Select(i => 1.0 / count + (1 - 1.0 / count) * i / Math.Max(count - 26, 1)), .. Enumerable.Repeat(1.0, 25)];

    /// <summary>A weighted mixture with one kernel per observation and one uniform prior kernel, over some dimensions.</summary>
    private sealed class ParzenEstimator
    {
        private readonly TpeSuggester _owner;
        private readonly int[] _dimensions;
        private readonly double[] _logWeights;
        private readonly double[][] _centres;   // [component][k]: a unit value, or a category index
        private readonly double[][] _widths;    // [component][k]: σ for numeric dimensions
        private readonly double[][][] _logProbabilities; // [component][k][category] for categorical dimensions

        public ParzenEstimator(TpeSuggester owner, int[] dimensions, double[][] points)
        {
            _owner = owner;
            _dimensions = dimensions;
            var n = points.Length;
            var weights = Weights(n).Append(owner._settings.PriorWeight).ToArray();
            var total = weights.Sum();
            _logWeights = weights.Select(w => Math.Log(w / total)).ToArray();
            _centres = new double[n + 1][];
            _widths = new double[n + 1][];
            _logProbabilities = new double[n + 1][][];
            for (var c = 0; c <= n; c++)
            {
                _centres[c] = new double[dimensions.Length];
                _widths[c] = new double[dimensions.Length];
                _logProbabilities[c] = new double[dimensions.Length][];
            }
            for (var k = 0; k < dimensions.Length; k++)
            {
                var j = dimensions[k];
                if (owner._categorical[j]) SetCategorical(k, j, points);
                else SetNumeric(k, j, points, dimensions.Length);
            }
        }

        private void SetNumeric(int k, int j, double[][] points, int groupSize)
        {
            var n = points.Length;
            var values = points.Select(p => p[j]).ToArray();
            var sigmas = new double[n];
            if (_owner._settings.Multivariate)
            {
                // Scott's rule, as Optuna's multivariate TPE.
                Array.Fill(sigmas, 0.2 * Math.Pow(Math.Max(n, 1), -1.0 / (groupSize + 4)));
            }
            else if (n > 0)
            {
                // Each kernel as wide as the larger gap to its neighbours; the outermost use their inner gap.
                var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ToArray();
                var sorted = new double[n + 2];
                sorted[0] = 0;
                sorted[n + 1] = 1;
                for (var i = 0; i < n; i++) sorted[i + 1] = values[order[i]];
                for (var i = 0; i < n; i++)
                {
                    var width = Math.Max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
                    if (n >= 2 && i == 0) width = sorted[2] - sorted[1];
                    if (n >= 2 && i == n - 1) width = sorted[n] - sorted[n - 1];
                    sigmas[order[i]] = width;
                }
            }
            // Optuna's magic clip: no kernel wider than the range nor narrower than range / min(100, components).
            var minimum = 1.0 / Math.Min(100, n + 1);
            for (var i = 0; i < n; i++)
            {
                _centres[i][k] = values[i];
                _widths[i][k] = Math.Clamp(sigmas[i], minimum, 1.0);
            }
            _centres[n][k] = 0.5;
            _widths[n][k] = 1.0;
        }

        private void SetCategorical(int k, int j, double[][] points)
        {
            var categories = _owner._categories[j];
            var n = points.Length;
            var prior = _owner._settings.PriorWeight;
            for (var i = 0; i <= n; i++)
            {
                // An observation's kernel puts weight 1 on its category and the prior's share spread on all.
                var probabilities = Enumerable.Repeat(prior / categories, categories).ToArray();
                if (i < n) probabilities[Category(points[i][j], categories)] += 1;
                var sum = probabilities.Sum();
                _logProbabilities[i][k] = probabilities.Select(p => Math.Log(p / sum)).ToArray();
                _centres[i][k] = i < n ? Category(points[i][j], categories) : 0;
            }
        }

        public double[] Sample(Random random)
        {
            var pick = random.NextDouble();
            var component = _logWeights.Length - 1;
            for (var c = 0; c < _logWeights.Length; c++)
            {
                pick -= Math.Exp(_logWeights[c]);
                if (pick <= 0)
                {
                    component = c;
                    break;
                }
            }
            var sample = new double[_dimensions.Length];
            for (var k = 0; k < sample.Length; k++)
            {
                var j = _dimensions[k];
                if (_owner._categorical[j])
                {
                    var categories = _owner._categories[j];
                    var u = random.NextDouble();
                    var index = categories - 1;
                    for (var q = 0; q < categories; q++)
                    {
                        u -= Math.Exp(_logProbabilities[component][k][q]);
                        if (u <= 0)
                        {
                            index = q;
                            break;
                        }
                    }
                    sample[k] = (index + 0.5) / categories;
                }
                else
                {
                    var (mu, sigma) = (_centres[component][k], _widths[component][k]);
                    var low = NormalMath.Cdf(-mu / sigma);
                    var high = NormalMath.Cdf((1 - mu) / sigma);
                    var p = low + random.NextDouble() * (high - low);
                    sample[k] = Math.Clamp(mu + sigma * Normal.InvCDF(0, 1, Math.Clamp(p, 1e-300, 1 - 1e-16)), 0, 1);
                }
            }
            return sample;
        }

        public double LogDensity(double[] point)
        {
            var terms = new double[_logWeights.Length];
            for (var c = 0; c < terms.Length; c++)
            {
                var sum = _logWeights[c];
                for (var k = 0; k < point.Length; k++)
                {
                    var j = _dimensions[k];
                    if (_owner._categorical[j])
                    {
                        sum += _logProbabilities[c][k][Category(point[k], _owner._categories[j])];
                        continue;
                    }
                    var (mu, sigma) = (_centres[c][k], _widths[c][k]);
                    var z = (point[k] - mu) / sigma;
                    var mass = NormalMath.Cdf((1 - mu) / sigma) - NormalMath.Cdf(-mu / sigma);
                    sum += -0.5 * z * z - Math.Log(sigma * Math.Sqrt(2 * Math.PI) * mass);
                }
                terms[c] = sum;
            }
            var max = terms.Max();
            return max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
        }

        private static int Category(double unit, int categories) => Math.Min((int)(unit * categories), categories - 1);
    }
}
