using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Studies;

namespace Tuning.Tuner.Grains;

/// <summary>study.json's and the API's <c>recommendedTrial</c>, with whether the model learnt anything.</summary>
/// <param name="ModelLearnt">
/// The model found a signal and this is its best trial (<see cref="Recommendation.Learnt"/>); false where the trial is
/// the best observed one, the model having read the results as noise (or too few for a model).
/// </param>
[GenerateSerializer, Immutable]
public sealed record RecommendedTrial([property: Id(0)] TrialRecord Trial, [property: Id(1)] bool ModelLearnt);

/// <summary>
/// A study's <c>recommendedTrial</c>: the succeeded trial with the lowest posterior mean under a Gaussian process
/// fitted to the results (<see cref="Recommendation"/>). A fit costs tenths of a second, up to a second at thousands of
/// trials, and clients poll the study: the answer is kept until the number of succeeded trials changes (within one
/// study they only grow, and a succeeded trial stays as it is), and computed on the thread pool, one fit at a time.
/// Called from one thread at a time (the study grain's turns).
/// </summary>
public sealed class Recommender(SearchSpace space, ObjectiveSpec objective)
{
    private int _succeeded;
    private Task<RecommendedTrial?> _answer = Task.FromResult<RecommendedTrial?>(null);

    /// <summary>The recommended trial; null when no trial succeeded.</summary>
    public Task<RecommendedTrial?> RecommendAsync(IEnumerable<TrialRecord?> trials)
    {
        var succeeded = trials.OfType<TrialRecord>().Where(t => t.Status == TrialStatus.Succeeded).ToArray();
        // While a fit runs, its answer stands (a trial behind at most): fits queued per poll would only pile up.
        if (succeeded.Length == _succeeded || !_answer.IsCompleted) return _answer;
        _succeeded = succeeded.Length;
        return _answer = Task.Run(() => Of(space, objective, succeeded));
    }

    /// <summary>The recommended trial, fitted afresh.</summary>
    public static RecommendedTrial? Of(SearchSpace space, ObjectiveSpec objective, IEnumerable<TrialRecord> trials)
    {
        // In number order, so the same trials give the same fit however they finished.
        var succeeded = trials
            .Where(t => t.Status == TrialStatus.Succeeded && t.Metrics.TryGetValue(objective.Metric, out var v) && double.IsFinite(v))
            .OrderBy(t => t.Number)
            .ToArray();
        var observations = succeeded.Select(t => new Observation(t.Parameters, objective.ToLoss(t.Metrics[objective.Metric]))).ToArray();
        return Recommendation.Best(space, observations) is { } point ? new RecommendedTrial(succeeded[point.Index], point.ModelLearnt) : null;
    }
}
