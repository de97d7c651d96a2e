using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Models;

/// <summary>
/// The trial a study recommends: the evaluated point whose posterior mean is lowest under a Gaussian process fitted
/// to the results, as BoTorch recommends ("best in-sample point by posterior mean"). With a noisy metric the best
/// observed value is partly luck, the best draw of the noise; the model averages a point's value with its
/// neighbours' and its noise estimate, so it picks a point that is good rather than lucky. With a noiseless metric
/// the model interpolates and the recommendation is the best observed trial.
/// </summary>
public static class Recommendation
{
    /// <summary>
    /// The model is conditioned on at most this many results, the best by observed value (its factorisation is cubic in
    /// them): the recommendation is among the best observed points, and far worse ones barely move their posterior.
    /// </summary>
    public const int MaxModelPoints = 1000;

    /// <summary>The index in <paramref name="observations"/> of the recommended one; null when none has a finite loss.</summary>
    public static int? Best(SearchSpace space, IReadOnlyList<Observation> observations, int seed = 0)
    {
        var finite = Enumerable.Range(0, observations.Count)
            .Where(i => observations[i].Loss is { } loss && double.IsFinite(loss))
            .OrderBy(i => observations[i].Loss!.Value)
            .Take(MaxModelPoints)
            .ToArray();
        if (finite.Length < 3) return finite.Length == 0 ? null : finite[0];
        var inputs = new ModelInputs(space);
        var x = finite.Select(i => inputs.ToFeatures(space.ToUnit(observations[i].Parameters))).ToArray();
        var y = GaussianProcess.Standardise(finite.Select(i => observations[i].Loss!.Value).ToArray());
        var random = new Random(seed);
        var fit = GaussianProcess.Fit(TrainingData.Subset(x, y, inputs.Categorical, random), null, random, restarts: 2,
            GpPriors.ForDimensions(space.Dimensions));
        var model = GaussianProcess.Create(x, y, inputs.Categorical, fit);
        var means = model.Means(x);
        var best = 0;
        for (var i = 1; i < means.Length; i++)
            if (means[i] < means[best]) best = i;
        return finite[best];
    }
}
