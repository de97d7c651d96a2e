using System.Globalization;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.EarlyStopping;

/// <summary>One point of a trial's learning curve: the objective as a loss (lower is better) at a training step.</summary>
public readonly record struct CurvePoint(long Step, double Loss);

/// <summary>A trial's learning curve, its points in the order reported.</summary>
public sealed record LearningCurve(int Trial, IReadOnlyList<CurvePoint> Points)
{
    public long LastStep => Points.Count == 0 ? long.MinValue : Points[^1].Step;

    /// <summary>The lowest loss reported at a step up to <paramref name="step"/>; null when none was.</summary>
    public double? BestUpTo(long step)
    {
        double? best = null;
        foreach (var point in Points)
            if (point.Step <= step && double.IsFinite(point.Loss) && (best is null || point.Loss < best))
                best = point.Loss;
        return best;
    }

    /// <summary>The loss last reported at a step up to <paramref name="step"/>: the curve's value there; null before its first point.</summary>
    public double? ValueAt(long step)
    {
        double? value = null;
        foreach (var point in Points)
            if (point.Step <= step) value = point.Loss;
        return value is { } v && double.IsFinite(v) ? v : null;
    }

    /// <summary>Whether the latest value is not a finite number: the trial diverged.</summary>
    public bool Diverged => Points.Count > 0 && !double.IsFinite(Points[^1].Loss);

    /// <summary>The loss at the first step reported at or after <paramref name="step"/>: where the curve reached it.</summary>
    public double? ReachedAt(long step)
    {
        foreach (var point in Points)
            if (point.Step >= step)
                return double.IsFinite(point.Loss) ? point.Loss : null;
        return null;
    }
}

/// <summary>What a rule is shown when it judges a running trial.</summary>
/// <param name="Running">The trial being judged, with every point it has reported so far.</param>
/// <param name="JudgedUpTo">The last step of the curve when it was last judged: only newer steps are judged now.</param>
/// <param name="Completed">The curves of trials that completed (succeeded).</param>
/// <param name="Others">The curves of every other trial, running, completed or stopped.</param>
/// <param name="Maximize">Whether the objective is maximised: reasons show values as the trial reported them, not as losses.</param>
public sealed record EarlyStoppingQuestion(
    LearningCurve Running, long JudgedUpTo, IReadOnlyList<LearningCurve> Completed, IReadOnlyList<LearningCurve> Others, bool Maximize = false)
{
    /// <summary>
    /// The steps reported since the trial was last judged, in order: a rule judges each, so a trial whose reports
    /// arrive in a batch is stopped at the step it failed, not at the batch's last.
    /// </summary>
    public IEnumerable<long> NewSteps => Running.Points.Select(p => p.Step).Where(s => s > JudgedUpTo).Distinct().Order();

    /// <summary>A loss as the trial reported it.</summary>
    public string Shown(double loss) => (Maximize ? -loss : loss).ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>
/// An early stopping rule: whether a running trial is clearly worse than the others and should stop now. Under every
/// rule a trial whose latest value is not a finite number (it diverged) stops at once, as Optuna prunes a NaN.
/// </summary>
public abstract class EarlyStoppingRule
{
    /// <summary>Why the trial should stop, or null to let it go on.</summary>
    public string? Judge(EarlyStoppingQuestion question) =>
        question.Running.Diverged
            ? $"stopped early: it reported {question.Shown(question.Running.Points[^1].Loss)} at step {question.Running.LastStep}, which is not a finite number"
            : JudgeCurve(question);

    protected abstract string? JudgeCurve(EarlyStoppingQuestion question);
}

/// <summary>
/// The median rule: once <c>minTrials</c> trials have completed, a running trial whose best loss up to a step s it
/// reported (s &gt;= <c>startStep</c>; each new step is judged) is worse than the median of the completed trials' values at s is stopped (a completed
/// trial's value at s is the last it reported at a step up to s). As Optuna's MedianPruner: a true median, where
/// Katib's rule of the same name takes a mean.
/// </summary>
public sealed class MedianStopping(int minTrials, long startStep) : EarlyStoppingRule
{
    protected override string? JudgeCurve(EarlyStoppingQuestion question) =>
        question.NewSteps.Where(step => step >= startStep).Select(step => JudgeStep(question, step)).FirstOrDefault(reason => reason is not null);

    private string? JudgeStep(EarlyStoppingQuestion question, long step)
    {
        if (question.Running.BestUpTo(step) is not { } mine) return null;
        var theirs = question.Completed.Select(c => c.ValueAt(step)).OfType<double>().ToArray();
        if (theirs.Length < minTrials) return null;
        var median = Median(theirs);
        return mine > median
            ? $"stopped early by the median rule at step {step}: best value so far {question.Shown(mine)} is worse than the median {question.Shown(median)} of {theirs.Length} completed trials at that step"
            : null;
    }

    public static double Median(double[] values)
    {
        Array.Sort(values);
        var middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

}

/// <summary>
/// Asynchronous successive halving (ASHA, as Ray Tune's and Optuna's SuccessiveHalvingPruner): rungs at steps
/// <c>minStep * reductionFactor^k</c> below <paramref name="maxStep"/>. A trial reaching a rung goes on only if its loss
/// there is among the best 1/<c>reductionFactor</c> of every trial that has reached that rung so far, itself included
/// (at least the best one goes on, so the first trial to reach a rung always does). Judged once per rung, when the
/// trial reaches it, and never again: a promotion is not taken back.
/// </summary>
/// <param name="maxStep">Where trials end: no rung at or past it, since stopping a trial there saves nothing.</param>
/// <param name="name">The rule as reasons name it.</param>
public sealed class SuccessiveHalving(long minStep, int reductionFactor, long maxStep = long.MaxValue, string name = "asha") : EarlyStoppingRule
{
    public IEnumerable<long> Rungs()
    {
        for (var rung = minStep; rung > 0 && rung < maxStep && rung < long.MaxValue / reductionFactor; rung *= reductionFactor) yield return rung;
    }

    protected override string? JudgeCurve(EarlyStoppingQuestion question)
    {
        var running = question.Running;
        foreach (var rung in Rungs())
        {
            if (rung > running.LastStep) break;
            // Judged already when the curve last reached this far.
            if (rung <= question.JudgedUpTo) continue;
            if (running.ReachedAt(rung) is not { } mine) continue;
            var values = question.Others.Where(o => o.Trial != running.Trial && o.LastStep >= rung)
                .Select(o => o.ReachedAt(rung)).OfType<double>().Append(mine).Order().ToArray();
            var promoted = Math.Max(1, values.Length / reductionFactor);
            var threshold = values[promoted - 1];
            if (mine > threshold)
                return $"stopped early by {name} at rung step {rung}: value {question.Shown(mine)} is not among the best {promoted} of {values.Length} trials that reached it";
        }
        return null;
    }
}

/// <summary>
/// Hyperband (Li et al. 2018), asynchronous as Optuna's HyperbandPruner: brackets of successive halving, bracket b with
/// rungs from <c>minStep * reductionFactor^b</c> up to <c>maxStep</c>, so bracket 0 stops trials soonest and the last
/// lets every trial run to <c>maxStep</c>. Each trial belongs to one bracket and is compared only with the trials of
/// its bracket. Brackets get trials in Hyperband's proportions (bracket b of B gets ⌈B·η^(B-1-b)/(B-b)⌉ shares, η the
/// reduction factor), drawn by a fixed mix of the trial's number: the same trial is in the same bracket on every run
/// of the study, resumed or not, on any machine.
/// </summary>
public sealed class Hyperband : EarlyStoppingRule
{
    private readonly SuccessiveHalving[] _brackets;

    /// <summary>Where each bracket's shares end, cumulated: a trial's draw below <c>_shareEnds[b]</c> (and not below b-1's) is in bracket b.</summary>
    private readonly long[] _shareEnds;

    public Hyperband(long minStep, long maxStep, int reductionFactor)
    {
        var count = 1;
        for (var first = minStep; first <= maxStep / reductionFactor; first *= reductionFactor) count++;
        _brackets = new SuccessiveHalving[count];
        _shareEnds = new long[count];
        var bracketMin = minStep;
        long shares = 0;
        for (var b = 0; b < count; b++, bracketMin *= reductionFactor)
        {
            _brackets[b] = new SuccessiveHalving(bracketMin, reductionFactor, maxStep, $"hyperband (bracket {b})");
            var halvings = count - 1 - b;
            shares += (long)Math.Ceiling(count * Math.Pow(reductionFactor, halvings) / (halvings + 1));
            _shareEnds[b] = shares;
        }
    }

    /// <summary>Each bracket's rungs, bracket 0 first.</summary>
    public IEnumerable<IEnumerable<long>> BracketRungs => _brackets.Select(b => b.Rungs());

    /// <summary>The bracket of trial <paramref name="trial"/>: a function of its number alone.</summary>
    public int Bracket(int trial)
    {
        var draw = (long)(Mix((ulong)trial) % (ulong)_shareEnds[^1]);
        return Array.FindIndex(_shareEnds, end => draw < end);
    }

    protected override string? JudgeCurve(EarlyStoppingQuestion question)
    {
        var bracket = Bracket(question.Running.Trial);
        var peers = question.Others.Where(o => Bracket(o.Trial) == bracket).ToArray();
        return _brackets[bracket].Judge(question with { Others = peers });
    }

    /// <summary>SplitMix64's finaliser: neighbouring trial numbers land far apart, so brackets fill evenly from the first trials on.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>The early stopping rules a study file may name, with their settings checked.</summary>
public static class EarlyStoppingCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["median", "asha", "hyperband"];

    /// <summary>The rule, or the problems with its settings (every one, each with its field path).</summary>
    public static (EarlyStoppingRule? Rule, IReadOnlyList<AlgorithmError> Errors) Create(
        string name, IReadOnlyDictionary<string, string> settings, string path = "earlyStopping.settings")
    {
        var reader = new SettingsReader(settings, path);
        EarlyStoppingRule? rule = name switch
        {
            "median" => new MedianStopping(reader.Int("minTrials", 5, 1), reader.Int("startStep", 0, 0)),
            "asha" => new SuccessiveHalving(reader.Int("minStep", 1, 1), reader.Int("reductionFactor", 3, 2, 100)),
            "hyperband" => CreateHyperband(reader),
            _ => null,
        };
        var errors = reader.Finish();
        return (errors.Count == 0 ? rule : null, errors);
    }

    private static Hyperband? CreateHyperband(SettingsReader reader)
    {
        var minStep = reader.Int("minStep", 1, 1);
        var maxStep = reader.RequiredInt("maxStep", "the step trials end at (their last epoch, say)", 1);
        var reductionFactor = reader.Int("reductionFactor", 3, 2, 100);
        if (maxStep is null) return null;
        if (maxStep <= minStep)
        {
            reader.Fail("maxStep", $"must be more than minStep ({minStep}), got {maxStep}");
            return null;
        }
        return new Hyperband(minStep, maxStep.Value, reductionFactor);
    }
}
