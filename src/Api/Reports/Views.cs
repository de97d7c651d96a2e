using System.Text.Json;
using System.Text.Json.Serialization;
using Tuning.Algorithms.Space;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>
/// Studies and trials as study.json and the HTTP API show them (one shape for both, DESIGN.md's): parameters
/// keep their type (numbers as numbers, categories as strings), intermediate values are [step, value] pairs,
/// and a metric that is not finite is null.
/// </summary>
public static class Views
{
    /// <summary>camelCase, nulls written: the JSON every front end writes and reads.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    public static StudyView Study(StudySnapshot s) => new(
        s.Id.ToString("N"), s.Name, s.Status.ToString(), s.Reason,
        Objective(s.Metric, s.Maximize),
        s.Best is { } best ? Best(best) : null,
        s.MaxTrials, s.Created, s.Running, s.Succeeded, s.Failed, s.EarlyStopped, s.CachedSteps, s.CreatedAt, s.CompletedAt, Resources(s));

    public static ResourcesView Resources(StudySnapshot s) =>
        new(s.Spent.Steps, s.MaxSteps, Math.Round(s.Spent.Time.TotalSeconds, 3), s.MaxTime?.TotalSeconds);

    /// <summary>One study as GET /api/studies/{id} shows it: with the trial its model recommends, and where it ranks
    /// trials by Pareto dominance its <paramref name="objectives"/> and front.</summary>
    public static StudyDetailView Detail(StudySnapshot s, RecommendedTrial? recommended, IReadOnlyList<ObjectiveSpec>? objectives = null) =>
        new(Study(s), recommended is { } model ? Best(model.Trial) : null, recommended?.ModelLearnt ?? false)
        {
            Objectives = objectives?.Select(o => Objective(o.Metric, o.Goal == Goal.Maximize)).ToArray(),
            ParetoTrials = ParetoTrials(s.Pareto),
            Hypervolume = Hypervolume(s.Pareto),
        };

    private static ObjectiveView Objective(string metric, bool maximize) => new(metric, maximize ? "maximize" : "minimize");

    private static BestTrialView[]? ParetoTrials(ParetoFront? front) => front?.Trials.Select(Best).ToArray();

    private static HypervolumeView? Hypervolume(ParetoFront? front) =>
        front is { Trials.Length: > 0 } ? new HypervolumeView(Finite(front.Hypervolume), front.Reference.Select(Finite).ToArray(), front.ReferenceDerived) : null;

    public static BestTrialView Best(TrialRecord t) => new(t.Id, t.Number, Parameters(t.Parameters), Metrics(t.Metrics));

    public static TrialView Trial(TrialRecord t) => new(
        t.Id, t.Number, t.Status.ToString(), t.Enqueued ? "enqueued" : "suggested", Parameters(t.Parameters), Metrics(t.Metrics),
        t.Intermediate.ToDictionary(m => m.Key, m => m.Value.Select(p => new double?[] { p.Step, Finite(p.Value) }).ToArray()),
        t.Steps.Select(step => new StepView(step.Name, step.Cached, Math.Round(step.Seconds, 3))).ToArray(),
        t.StartedAt, t.CompletedAt, t.Error, t.Retries, t.Silo, t.Note);

    /// <param name="recommended">The trial the model recommends (<see cref="Recommender"/>); null when none succeeded.</param>
    public static StudyReport Report(StudySnapshot study, IEnumerable<TrialRecord> trials, TrialRecord? recommended) => new(
        study.Id.ToString("N"), study.Name, study.Status.ToString(), study.Reason,
        Objective(study.Metric, study.Maximize),
        study.Best is { } best ? Best(best) : null,
        recommended is { } model ? Best(model) : null,
        Resources(study),
        trials.OrderBy(t => t.Number).Select(t => Trial(t) with { Feasible = Feasible(study.Pareto, t) }).ToArray())
    {
        ParetoTrials = ParetoTrials(study.Pareto),
        Hypervolume = Hypervolume(study.Pareto),
    };

    /// <summary>Whether a trial is feasible, in a study of several objectives or constraints (null in others): it
    /// succeeded and holds every constraint.</summary>
    private static bool? Feasible(ParetoFront? front, TrialRecord trial) =>
        front is null ? null : trial.Status == TrialStatus.Succeeded && !front.Infeasible.Contains(trial.Number);

    /// <summary>A parameter's value as JSON: a number, or the category's name.</summary>
    public static object Value(ParameterValue value) => value.Category is { } category ? category : value.Number;

    public static Dictionary<string, object> Parameters(IReadOnlyDictionary<string, ParameterValue> values) =>
        values.ToDictionary(v => v.Key, v => Value(v.Value));

    private static Dictionary<string, double?> Metrics(IReadOnlyDictionary<string, double> metrics) =>
        metrics.ToDictionary(m => m.Key, m => Finite(m.Value));

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

public sealed record ObjectiveView(string Metric, string Goal);

public sealed record BestTrialView(string Id, int Number, Dictionary<string, object> Parameters, Dictionary<string, double?> Metrics);

public sealed record StepView(string Name, bool Cached, double Seconds);

/// <summary>What a study has spent beside its resource budgets (null where it has none).</summary>
/// <param name="Steps">The sum over its trials of the highest step each reported.</param>
/// <param name="Seconds">Wall-clock time since the study was created, to its end once ended.</param>
public sealed record ResourcesView(long Steps, long? MaxSteps, double Seconds, double? MaxSeconds)
{
    [JsonIgnore] public ResourcesSpent Spent => new(Steps, TimeSpan.FromSeconds(Seconds));

    [JsonIgnore] public TimeSpan? MaxTime => MaxSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
}

/// <param name="Source">Where the parameters came from: <c>enqueued</c> (the study file's <c>enqueue</c> list) or <c>suggested</c> (the algorithm).</param>
/// <param name="Intermediate">Per metric, [step, value] pairs.</param>
/// <param name="Retries">Why earlier attempts were given up (a lost silo, an evicted pod); null when there were none.</param>
/// <param name="Silo">The silo that ran the trial's last attempt.</param>
/// <param name="Note">What the trial reported that was not kept (metric names past the first 100); null when nothing was left out.</param>
public record TrialView(
    string Id, int Number, string Status, string Source, Dictionary<string, object> Parameters, Dictionary<string, double?> Metrics,
    Dictionary<string, double?[][]> Intermediate, StepView[] Steps, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, string? Error,
    string[]? Retries, string? Silo, string? Note)
{
    /// <summary>In a study of several objectives or constraints, whether the trial succeeded and holds every constraint; absent in others.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Feasible { get; init; }
}

/// <summary>One trial, as GET /api/studies/{id}/trials/{n} returns it: with its study's step names, whose logs it may have.</summary>
public sealed record TrialDetailView : TrialView
{
    public TrialDetailView(TrialView trial, string[] studySteps) : base(trial) => StudySteps = studySteps;

    /// <summary>The steps of the study file in its order, those the trial has not reached (or ran before a failure) included.</summary>
    public string[] StudySteps { get; }
}

/// <summary>What a study's front dominates (<see cref="ParetoFront"/>).</summary>
/// <param name="Value">Null where it is beyond a double's range (a reference of 1e300 makes a volume of 1e600), as a
/// metric that is not finite is null.</param>
/// <param name="Reference">The reference point, per objective as it is reported.</param>
/// <param name="ReferenceDerived">Per objective, whether its coordinate was derived from the trials (the worst feasible value
/// plus a tenth of the range) rather than given as <c>objectives[i].reference</c>.</param>
public sealed record HypervolumeView(double? Value, double?[] Reference, bool[] ReferenceDerived);

/// <summary>A study at a glance, as the API lists it.</summary>
public record StudyView(
    string Id, string Name, string Status, string? Reason, ObjectiveView Objective, BestTrialView? BestTrial,
    int MaxTrials, int Created, int Running, int Succeeded, int Failed, int EarlyStopped, int CachedSteps,
    DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, ResourcesView Resources)
{
    /// <summary>Trials that ran to an end: succeeded, failed or stopped early.</summary>
    public int Done => Succeeded + Failed + EarlyStopped;
}

/// <summary>One study, as GET /api/studies/{id} returns it: at a glance, with the trial its model recommends.</summary>
public sealed record StudyDetailView : StudyView
{
    public StudyDetailView(StudyView study, BestTrialView? recommendedTrial, bool modelLearnt) : base(study)
    {
        RecommendedTrial = recommendedTrial;
        ModelLearnt = modelLearnt;
    }

    /// <summary>In a study of several objectives or constraints, every objective in the study file's order (the first is
    /// <see cref="StudyView.Objective"/>); absent in others.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ObjectiveView[]? Objectives { get; init; }

    /// <summary>As study.json's <see cref="StudyReport.ParetoTrials"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BestTrialView[]? ParetoTrials { get; init; }

    /// <summary>As study.json's <see cref="StudyReport.Hypervolume"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HypervolumeView? Hypervolume { get; init; }

    /// <summary>As study.json's <see cref="StudyReport.RecommendedTrial"/>; null when no trial succeeded.</summary>
    public BestTrialView? RecommendedTrial { get; }

    /// <summary>
    /// The model found a signal in the results and <see cref="RecommendedTrial"/> is its best; false where that is the
    /// best observed trial (results the model reads as noise, or too few).
    /// </summary>
    public bool ModelLearnt { get; }
}

/// <summary>study.json: the study and every trial.</summary>
/// <param name="BestTrial">The succeeded trial with the best observed value.</param>
/// <param name="RecommendedTrial">
/// The succeeded trial the model believes best (<see cref="Recommender"/>): the best trial for a noiseless metric, a
/// good rather than lucky one for a noisy metric; null when no trial succeeded.
/// </param>
public sealed record StudyReport(
    string Id, string Name, string Status, string? Reason, ObjectiveView Objective, BestTrialView? BestTrial,
    BestTrialView? RecommendedTrial, ResourcesView Resources, TrialView[] Trials)
{
    /// <summary>In a study of several objectives or constraints, the feasible non-dominated succeeded trials, best first
    /// by the first objective; absent in others.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BestTrialView[]? ParetoTrials { get; init; }

    /// <summary>What <see cref="ParetoTrials"/> dominates; absent where no trial is feasible, and in a study of one unconstrained objective.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HypervolumeView? Hypervolume { get; init; }
}

/// <summary>A page of trials and the cursor of the next (null on the last page).</summary>
public sealed record TrialPageView(TrialView[] Trials, int Total, string? Next);
