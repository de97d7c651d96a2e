using Tuning.Algorithms.Models;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>
/// study.json's <c>recommendedTrial</c> for one study: the succeeded trial with the lowest posterior mean under a
/// Gaussian process fitted to the results (<see cref="Recommendation"/>). The fit costs tenths of a second, up to a
/// second at thousands of trials, and <c>tuner run</c> rewrites study.json every 2 s: the answer is kept until the
/// number of succeeded trials changes (within one study they only grow, and a succeeded trial stays as it is).
/// Not thread-safe: one writer uses it at a time.
/// </summary>
public sealed class Recommender(SearchSpace space, int seed)
{
    private int _succeeded = -1;
    private TrialRecord? _recommended;

    /// <summary>The study's space, and its seed where the file gave one (else 0).</summary>
    public Recommender(StudySpec spec) : this(spec.Space, spec.Algorithm.Seed ?? 0)
    {
    }

    /// <summary>The recommended trial; null when no trial succeeded.</summary>
    public TrialRecord? Recommend(StudySnapshot study, IReadOnlyList<TrialRecord> trials)
    {
        var succeeded = trials.Count(t => t.Status == TrialStatus.Succeeded);
        if (succeeded != _succeeded)
        {
            _recommended = Of(space, seed, study, trials);
            _succeeded = succeeded;
        }
        return _recommended;
    }

    /// <summary>The recommended trial, fitted afresh.</summary>
    public static TrialRecord? Of(SearchSpace space, int seed, StudySnapshot study, IEnumerable<TrialRecord> trials)
    {
        // In number order, so the same trials give the same fit however they finished.
        var succeeded = trials
            .Where(t => t.Status == TrialStatus.Succeeded && t.Metrics.TryGetValue(study.Metric, out var v) && double.IsFinite(v))
            .OrderBy(t => t.Number)
            .ToArray();
        var observations = succeeded
            .Select(t => new Observation(t.Parameters, study.Maximize ? -t.Metrics[study.Metric] : t.Metrics[study.Metric]))
            .ToArray();
        return Recommendation.Best(space, observations, seed) is { } index ? succeeded[index] : null;
    }
}
