using System.Globalization;
using Tuning.Algorithms.MultiObjective;

namespace Tuning.Algorithms.EarlyStopping;

/// <summary>A trial's learning curves in a study of several objectives or constraints.</summary>
/// <param name="Objectives">Each objective's curve as losses, in the study file's order.</param>
/// <param name="Monotone">Each monotone constraint's metric as reported (its points' <c>Loss</c> is the metric's value),
/// in the order of <see cref="ParetoQuestion.Bounds"/>.</param>
public sealed record ObjectiveCurves(int Trial, IReadOnlyList<LearningCurve> Objectives, IReadOnlyList<LearningCurve> Monotone);

/// <summary>A constraint declared <c>monotone: true</c>: once its metric breaks a bound during training, it will not hold at the end.</summary>
public sealed record MonotoneBound(string Metric, double? Max, double? Min)
{
    public bool Breaks(double value) => value > (Max ?? double.PositiveInfinity) || value < (Min ?? double.NegativeInfinity);
}

/// <summary>What early stopping is shown about a running trial of a study of several objectives; as <see cref="EarlyStoppingQuestion"/>.</summary>
public sealed record ParetoQuestion(
    ObjectiveCurves Running, long JudgedUpTo, IReadOnlyList<ObjectiveCurves> Completed, IReadOnlyList<ObjectiveCurves> Others, IReadOnlyList<MonotoneBound> Bounds);

/// <summary>
/// Early stopping for several objectives, which Optuna cannot do (optuna#3450): a trial that breaks a monotone constraint
/// stops at once; otherwise <c>median</c> and <c>asha</c> judge, in place of one objective's value, the trial's standing
/// at each step among the trials that reached it: its non-dominated rank, then within its front its crowding distance,
/// as the score rank + 1/(1 + crowding) (lower is better; a front's extremes score the rank itself).
/// </summary>
public static class ParetoStopping
{
    public static string? Judge(EarlyStoppingRule rule, ParetoQuestion question)
    {
        var running = question.Running;
        for (var c = 0; c < question.Bounds.Count; c++)
            if (running.Monotone[c].Points is { Count: > 0 } points && points[^1].Step > question.JudgedUpTo && question.Bounds[c].Breaks(points[^1].Loss))
            {
                var bound = question.Bounds[c];
                var text = bound.Max is { } max && points[^1].Loss > max ? $"max {Shown(max)}" : $"min {Shown(bound.Min!.Value)}";
                return $"stopped early at step {points[^1].Step}: {bound.Metric}={Shown(points[^1].Loss)} breaks its bound ({text}), and the constraint is monotone";
            }
        if (running.Objectives.FirstOrDefault(c => c.Diverged) is { } diverged)
            return rule.Judge(new EarlyStoppingQuestion(diverged, question.JudgedUpTo, [], []));

        var everyone = question.Others.Prepend(running).DistinctBy(c => c.Trial).ToArray();
        var steps = running.Objectives[0].Points.Select(p => p.Step).Distinct().Order().ToArray();
        var scores = Scores(everyone, steps);
        LearningCurve Curve(ObjectiveCurves curves) => new(curves.Trial, scores[curves.Trial]);
        var reason = rule.Judge(new EarlyStoppingQuestion(
            Curve(running), question.JudgedUpTo, question.Completed.Select(Curve).ToArray(), question.Others.Select(Curve).ToArray()));
        return reason is null ? null : $"{reason} (a score of non-dominated rank plus 1/(1 + crowding distance) among the trials at that step)";
    }

    /// <summary>Each trial's score at each of <paramref name="steps"/> it reached with a value of every objective.</summary>
    public static Dictionary<int, List<CurvePoint>> Scores(IReadOnlyList<ObjectiveCurves> trials, IReadOnlyList<long> steps)
    {
        var scores = trials.ToDictionary(t => t.Trial, _ => new List<CurvePoint>());
        foreach (var step in steps)
        {
            var present = trials.Where(t => t.Objectives.All(c => c.LastStep >= step && c.ValueAt(step) is not null)).ToArray();
            if (present.Length == 0) continue;
            var points = present.Select(t => (IReadOnlyList<double>)t.Objectives.Select(c => c.ValueAt(step)!.Value).ToArray()).ToArray();
            var ranks = Pareto.Ranks(points);
            var crowding = Pareto.CrowdingWithinFronts(points, ranks);
            for (var i = 0; i < present.Length; i++)
                scores[present[i].Trial].Add(new CurvePoint(step, ranks[i] + 1 / (1 + crowding[i])));
        }
        return scores;
    }

    private static string Shown(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
