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
/// <param name="clock">What times the fits; the system's clock unless a test gives its own.</param>
/// <param name="feasible">Under constraints, whether a succeeded trial holds them: only such a trial is recommended.</param>
public sealed class Recommender(SearchSpace space, ObjectiveSpec objective, TimeProvider? clock = null, Func<TrialRecord, bool>? feasible = null)
{
    /// <summary>
    /// While a study runs, the time after a fit before the next, as a multiple of the fit's own time: fits take at
    /// most a tenth of one core. At a thousand trials a fit takes about a second, and refitting at each write of
    /// study.json (every 2 s) took half of a 2-core machine, its trials slowing as the study grew.
    /// </summary>
    private const int RestBetweenFits = 9;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private int _succeeded;
    private Task<RecommendedTrial?> _answer = Task.FromResult<RecommendedTrial?>(null);
    private long _lastFitEnded;
    private TimeSpan _lastFitTook;

    /// <summary>
    /// The recommended trial; null when no trial succeeded (under constraints, none holds them). While the study runs the answer may be a few trials behind
    /// (<see cref="RestBetweenFits"/>); once it has <paramref name="ended"/>, the answer is for every trial.
    /// </summary>
    public Task<RecommendedTrial?> RecommendAsync(IEnumerable<TrialRecord?> trials, bool ended)
    {
        var succeeded = trials.OfType<TrialRecord>().Where(t => t.Status == TrialStatus.Succeeded).ToArray();
        if (succeeded.Length == _succeeded) return _answer;
        // While a fit runs, its answer stands: fits queued per poll would only pile up. An ended study's fit follows it.
        if (!ended && (!_answer.IsCompleted || _clock.GetElapsedTime(_lastFitEnded) < RestBetweenFits * _lastFitTook)) return _answer;
        _succeeded = succeeded.Length;
        var running = _answer;
        return _answer = Task.Run(async () =>
        {
            await Task.WhenAny(running);
            var started = _clock.GetTimestamp();
            var answer = Of(space, objective, succeeded, feasible);
            _lastFitEnded = _clock.GetTimestamp();
            _lastFitTook = _clock.GetElapsedTime(started, _lastFitEnded);
            return answer;
        });
    }

    /// <summary>
    /// The recommended trial, fitted afresh. Under constraints the model is fitted to the trials that hold them: the
    /// objective beyond a bound is no answer, and a fit across it would smooth the best feasible value towards it.
    /// </summary>
    public static RecommendedTrial? Of(SearchSpace space, ObjectiveSpec objective, IEnumerable<TrialRecord> trials, Func<TrialRecord, bool>? feasible = null)
    {
        // In number order, so the same trials give the same fit however they finished.
        var succeeded = trials
            .Where(t => t.Status == TrialStatus.Succeeded && t.Metrics.TryGetValue(objective.Metric, out var v) && double.IsFinite(v) && (feasible?.Invoke(t) ?? true))
            .OrderBy(t => t.Number)
            .ToArray();
        var observations = succeeded.Select(t => new Observation(t.Parameters, objective.ToLoss(t.Metrics[objective.Metric]))).ToArray();
        return Recommendation.Best(space, observations) is { } point ? new RecommendedTrial(succeeded[point.Index], point.ModelLearnt) : null;
    }
}
