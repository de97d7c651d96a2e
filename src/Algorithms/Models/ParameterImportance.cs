using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Models;

/// <summary>
/// Which parameters matter, from the lengthscales of a Gaussian process fitted to a study's results (automatic
/// relevance determination): a parameter the objective barely changes along gets a long lengthscale. We use
/// the model the bayesian suggester already fits, rather than a random forest's fANOVA as Optuna does: it is
/// deterministic, needs no second model, and treats log, int and categorical parameters as the search does.
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
