using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Models;

/// <summary>
/// Which parameters matter, from the lengthscales of a Gaussian process fitted to a study's results (automatic
/// relevance determination): a parameter the objective barely changes along gets a long lengthscale. The GP is
/// fitted here, to the results given, with the bayesian suggester's inputs, product kernel and priors but not
/// its fit: a study searched by tpe or random search has no GP to borrow, and the suggester's own may lag behind
/// the results. Chosen over a random forest's fANOVA (Optuna's) as deterministic for a seed, and treating log, int
/// and categorical parameters as the search does.
/// </summary>
public static class ParameterImportance
{
    /// <summary>Each parameter's share of relevance (1/lengthscale, normalised to sum 1), or null with fewer than 3 finite results.</summary>
    public static double[]? Estimate(SearchSpace space, IReadOnlyList<Observation> observations, int seed = 0)
    {
        var observed = observations.Where(o => o.Loss is { } loss && double.IsFinite(loss)).ToArray();
        if (observed.Length < 3) return null;
        var inputs = new ModelInputs(space);
        var x = observed.Select(o => inputs.ToFeatures(space.ToUnit(o.Parameters))).ToArray();
        var y = GaussianProcess.Standardise(observed.Select(o => o.Loss!.Value).ToArray());
        var random = new Random(seed);
        var fit = GaussianProcess.Fit(TrainingData.Subset(x, y, inputs.Categorical, random), null, random, restarts: 3, GpPriors.ForDimensions(space.Dimensions));
        var relevance = fit.LogLengthscales.Select(l => Math.Exp(-l)).ToArray();
        var total = relevance.Sum();
        return relevance.Select(r => r / total).ToArray();
    }
}
