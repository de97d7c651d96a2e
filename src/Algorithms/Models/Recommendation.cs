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

    /// <summary>The recommended one of <paramref name="observations"/>; null when none has a finite loss.</summary>
    public static RecommendedPoint? Best(SearchSpace space, IReadOnlyList<Observation> observations, int seed = 0)
    {
        // Best observed first: candidates are taken in this order, so equal posterior means go to the better observed value.
        var finite = Enumerable.Range(0, observations.Count)
            .Where(i => observations[i].Loss is { } loss && double.IsFinite(loss))
            .OrderBy(i => observations[i].Loss!.Value)
            .Take(MaxModelPoints)
            .ToArray();
        if (finite.Length < 3) return finite.Length == 0 ? null : new RecommendedPoint(finite[0], ModelLearnt: false);
        var inputs = new ModelInputs(space);
        var x = finite.Select(i => inputs.ToFeatures(space.ToUnit(observations[i].Parameters))).ToArray();
        var y = GaussianProcess.Standardise(finite.Select(i => observations[i].Loss!.Value).ToArray());
        var random = new Random(seed);
        var data = TrainingData.Subset(x, y, inputs.Categorical, random);
        var fit = GaussianProcess.Fit(data, null, random, restarts: 2, GpPriors.ForDimensions(space.Dimensions));
        // A model that reads the results as noise has nearly equal means everywhere, and their order is noise too.
        if (!Learnt(data, fit)) return new RecommendedPoint(finite[0], ModelLearnt: false);
        var means = GaussianProcess.Create(x, y, inputs.Categorical, fit).Means(x);
        var best = 0;
        for (var i = 1; i < means.Length; i++)
            if (means[i] < means[best]) best = i;
        return new RecommendedPoint(finite[best], ModelLearnt: true);
    }

    /// <summary>
    /// Whether the fit found a signal: its log marginal likelihood exceeds that of noise alone (independent draws
    /// around the mean, of the outputs' variance) by more than <see cref="EvidenceNeeded"/>. A flat fit, whose signal
    /// variance is negligible against the noise or whose lengthscales are so long that the signal is a constant,
    /// explains the results no better than noise alone, however its variances came out; so the test reads what the
    /// model predicts, not one hyperparameter.
    /// </summary>
    public static bool Learnt(TrainingData data, GpHyperparameters fit)
    {
        var variance = Math.Max(data.Y.Average(v => v * v), 1e-12);
        var noiseAlone = fit with { LogSignalVariance = Math.Log(1e-12), LogNoiseVariance = Math.Log(variance) };
        return GaussianProcess.LogMarginalLikelihood(data, fit) - GaussianProcess.LogMarginalLikelihood(data, noiseAlone) > EvidenceNeeded;
    }

    /// <summary>
    /// The log likelihood ratio over noise alone that counts as a signal: 1, "positive evidence" on Kass and Raftery's
    /// scale (2 ln B above 2). The fit is the posterior mode under priors that favour smooth signals, not the
    /// likelihood's maximum, so it does not gain by bending through noise: on pure noise the ratio came out at −2.2 to
    /// −0.1 (8 to 120 points), on (x − ½)² under noise of twice its standard deviation (40 points) at 2.3, and on
    /// noiseless results at 8 and more. A criterion charging ½ ln n per hyperparameter (BIC) missed the noisy signal.
    /// </summary>
    public const double EvidenceNeeded = 1;
}

/// <param name="Index">The recommended observation's index.</param>
/// <param name="ModelLearnt">
/// The model found a signal (<see cref="Recommendation.Learnt"/>) and the point is its best; false where the point is
/// simply the best observed one (too few results, or results the model reads as noise).
/// </param>
public sealed record RecommendedPoint(int Index, bool ModelLearnt);
