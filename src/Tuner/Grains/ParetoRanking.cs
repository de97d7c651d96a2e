using Tuning.Algorithms.MultiObjective;
using Tuning.Trials.Studies;

namespace Tuning.Tuner.Grains;

/// <summary>
/// A study of several objectives or constraints at a glance (<see cref="StudySpec.RanksByPareto"/>): its front and the
/// hypervolume the front dominates.
/// </summary>
/// <param name="Trials">The feasible succeeded trials no other such trial dominates, best first by the first objective.</param>
/// <param name="Infeasible">The numbers of the succeeded trials that break a constraint.</param>
/// <param name="Hypervolume">What the front dominates up to <paramref name="Reference"/>, in the objectives' units; 0 with no front.</param>
/// <param name="Reference">The reference point as the objectives are reported (a maximised one not negated); empty with no front.</param>
/// <param name="ReferenceDerived">Per objective, whether its coordinate was derived from the trials rather than given
/// as <c>objectives[i].reference</c>.</param>
[GenerateSerializer, Immutable]
public sealed record ParetoFront(
    [property: Id(0)] TrialRecord[] Trials,
    [property: Id(1)] int[] Infeasible,
    [property: Id(2)] double Hypervolume,
    [property: Id(3)] double[] Reference,
    [property: Id(4)] bool[] ReferenceDerived);

/// <summary>
/// Which trials are best when there are several objectives or constraints: feasibility, Pareto dominance and the
/// hypervolume, in one place for the study grain, study.json and the plots.
/// </summary>
public static class ParetoRanking
{
    /// <summary>Whether a trial succeeded and holds every constraint; a constrained metric it lacks breaks its constraint.</summary>
    public static bool Feasible(StudySpec spec, TrialRecord trial) =>
        trial.Status == TrialStatus.Succeeded && Violation(spec, trial.Metrics) == 0;

    /// <summary>
    /// <see cref="Feasible"/> for a study with constraints, to pass to what ranks its trials; null for one without,
    /// where every succeeded trial holds them and checking each would only cost.
    /// </summary>
    public static Func<TrialRecord, bool>? FeasibilityTest(StudySpec spec) =>
        spec.AllConstraints.Count > 0 ? trial => Feasible(spec, trial) : null;

    /// <summary>How far the metrics break the constraints, summed (0: they hold every one); infinite where one is missing.</summary>
    public static double Violation(StudySpec spec, IReadOnlyDictionary<string, double> metrics) =>
        Excesses(spec, metrics).Sum(e => Math.Max(0, e));

    /// <summary>Per constraint, how far the metric lies beyond its bound (<see cref="ConstraintSpec.Excess"/>); infinite where it is missing.</summary>
    public static double[] Excesses(StudySpec spec, IReadOnlyDictionary<string, double> metrics) =>
        spec.AllConstraints.Select(c => metrics.TryGetValue(c.Metric, out var value) && double.IsFinite(value) ? c.Excess(value) : double.PositiveInfinity).ToArray();

    /// <summary>A trial's objectives as losses (every one minimised), in the order of <see cref="StudySpec.Objectives"/>.</summary>
    public static double[] Losses(StudySpec spec, IReadOnlyDictionary<string, double> metrics) =>
        spec.Objectives.Select(o => o.ToLoss(metrics[o.Metric])).ToArray();

    /// <summary>
    /// Per objective, the reference the study file gives as a loss (a maximised one negated), null where it gives none;
    /// null for a study of one objective. The suggester aims at the volume the study reports.
    /// </summary>
    public static double?[]? GivenReferences(StudySpec spec) =>
        spec.Objectives.Count > 1 ? spec.Objectives.Select(GivenReference).ToArray() : null;

    /// <summary>The reference the study file gives for an objective, as a loss; null where it gives none.</summary>
    private static double? GivenReference(ObjectiveSpec objective) => objective.Reference is { } given ? objective.ToLoss(given) : null;

    /// <summary>The front of <paramref name="trials"/> (in any order, unstarted ones null); null for a study of one unconstrained objective.</summary>
    public static ParetoFront? Front(StudySpec spec, IEnumerable<TrialRecord?> trials)
    {
        if (!spec.RanksByPareto) return null;
        var succeeded = trials.OfType<TrialRecord>().Where(t => t.Status == TrialStatus.Succeeded).OrderBy(t => t.Number).ToArray();
        var feasible = succeeded.Where(t => Feasible(spec, t)).ToArray();
        var infeasible = succeeded.Where(t => !Feasible(spec, t)).Select(t => t.Number).ToArray();
        if (feasible.Length == 0) return new ParetoFront([], infeasible, 0, [], []);
        var losses = feasible.Select(t => (IReadOnlyList<double>)Losses(spec, t.Metrics)).ToArray();
        var front = Pareto.NonDominated(losses).OrderBy(i => losses[i][0]).ThenBy(i => feasible[i].Number).ToArray();
        var derived = Hypervolume.DerivedReference(losses);
        var reference = spec.Objectives.Select((o, k) => GivenReference(o) ?? derived[k]).ToArray();
        return new ParetoFront(
            front.Select(i => feasible[i]).ToArray(), infeasible,
            Hypervolume.Of(front.Select(i => losses[i]).ToArray(), reference),
            // ToLoss negates a maximised objective, and so turns a loss back into its value; adding 0 makes a negated
            // 0 plain 0, which study.json and the summary would otherwise show as -0.
            spec.Objectives.Select((o, k) => o.Reference ?? o.ToLoss(derived[k]) + 0.0).ToArray(),
            spec.Objectives.Select(o => o.Reference is null).ToArray());
    }
}
