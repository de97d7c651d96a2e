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

    /// <summary>
    /// The seed of the fit's random restarts, the same for every study: a recommendation reports on results and
    /// decides no search, so the same results give the same recommendation whichever study or run they come from.
    /// </summary>
    private const int FitSeed = 0;

    /// <summary>The recommended one of <paramref name="observations"/>; null when none has a finite loss.</summary>
    public static RecommendedPoint? Best(SearchSpace space, IReadOnlyList<Observation> observations)
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
        var random = new Random(FitSeed);
        // Without the search's lengthscale cap: Learnt's threshold was measured on uncapped fits. With the cap, random
        // search's recommendation on the noisy regret rows fell back to the best observed trial in 40 of 40 runs (33 of
        // 40 without): the model read the results as noise.
        var fit = GaussianProcess.Fit(TrainingData.Subset(x, y, inputs.Categorical, random), null, random, restarts: 2,
            GpPriors.ForDimensions(space.Dimensions));
        var means = GaussianProcess.Create(x, y, inputs.Categorical, fit).Means(x);
        // A model that reads the results as noise has nearly equal means everywhere, and their order is noise too.
        if (!Learnt(means, fit)) return new RecommendedPoint(finite[0], ModelLearnt: false);
        var best = 0;
        for (var i = 1; i < means.Length; i++)
            if (means[i] < means[best]) best = i;
        return new RecommendedPoint(finite[best], ModelLearnt: true);
    }

    /// <summary>
    /// Whether the model found a signal: the posterior means at the evaluated points vary by at least
    /// <see cref="SignalToNoise"/> of the fitted noise's standard deviation. What the model predicts is judged, not
    /// its signal variance, which says nothing once the lengthscales are so long that the signal is a constant (as
    /// fits to pure noise came out).
    /// </summary>
    public static bool Learnt(IReadOnlyList<double> means, GpHyperparameters fit)
    {
        var average = means.Average();
        var spread = Math.Sqrt(means.Average(m => (m - average) * (m - average)));
        return spread >= SignalToNoise * Math.Sqrt(Math.Exp(fit.LogNoiseVariance) + GaussianProcess.NoiseFloor);
    }

    /// <summary>
    /// The least standard deviation of the posterior means, as a share of the noise's, that counts as a signal: a
    /// fifth. Measured on one parameter: fits to pure noise (12 sets each of 20, 30, 60 and 120 points) came out
    /// below 0.06 in most sets and at most 0.14 from 30 points on; (x − ½)² under noise of twice its standard
    /// deviation (40 points) at 0.61, the same with a lucky outlier (21 points) at 0.46, noiseless results at 60 and
    /// more. With few points noise can pass for a signal (2 of the 12 sets of 20 points: 0.32 and 0.54); no criterion
    /// tells those apart.
    /// </summary>
    public const double SignalToNoise = 0.2;
}

/// <param name="Index">The recommended observation's index.</param>
/// <param name="ModelLearnt">
/// The model found a signal (<see cref="Recommendation.Learnt"/>) and the point is its best; false where the point is
/// simply the best observed one (too few results, or results the model reads as noise).
/// </param>
public sealed record RecommendedPoint(int Index, bool ModelLearnt);
