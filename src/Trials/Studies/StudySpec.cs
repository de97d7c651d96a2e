using Tuning.Algorithms.Space;

namespace Tuning.Trials.Studies;

public enum Goal { Minimize, Maximize }

/// <summary>A study file, loaded and validated: everything needed to run the study.</summary>
/// <param name="StudyDirectory">The study file's folder: relative paths in commands resolve against it.</param>
/// <param name="Enqueue">Parameter sets to run first, as trials 0, 1, … before the suggester is asked (<c>enqueue:</c>).</param>
/// <param name="WarmStart">An earlier study whose trials the suggester sees as observations (<c>warmStart:</c>).</param>
/// <param name="Objective">The objective; with several, the first of them (what single-objective machinery, the best
/// trial and learning curves among it, reads).</param>
/// <param name="SeveralObjectives">The 2-4 objectives of <c>objectives:</c>, in the file's order; null for a study of one.</param>
/// <param name="Constraints">The bounds a trial's metrics must hold to be feasible (<c>constraints:</c>).</param>
public sealed record StudySpec(
    string Name,
    ObjectiveSpec Objective,
    AlgorithmSpec Algorithm,
    EarlyStoppingSpec? EarlyStopping,
    BudgetSpec Budget,
    SearchSpace Space,
    PipelineSpec Trial,
    string StudyDirectory,
    IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>>? Enqueue = null,
    WarmStartSpec? WarmStart = null,
    IReadOnlyList<ObjectiveSpec>? SeveralObjectives = null,
    IReadOnlyList<ConstraintSpec>? Constraints = null)
{
    /// <summary>Every objective: the one of <c>objective:</c>, or those of <c>objectives:</c>.</summary>
    public IReadOnlyList<ObjectiveSpec> Objectives => SeveralObjectives ?? [Objective];

    /// <summary>The constraints; empty where the file declares none.</summary>
    public IReadOnlyList<ConstraintSpec> AllConstraints => Constraints ?? [];

    /// <summary>
    /// Whether trials are compared by feasibility and Pareto dominance rather than by one value: with several objectives
    /// or any constraint. One objective under constraints has a front too: its best feasible trials.
    /// </summary>
    public bool RanksByPareto => SeveralObjectives is not null || AllConstraints.Count > 0;

    /// <summary>The metrics every succeeded trial must report with a finite value: the objectives' and the constraints'.</summary>
    public IEnumerable<string> RequiredMetrics => Objectives.Select(o => o.Metric).Concat(AllConstraints.Select(c => c.Metric)).Distinct(StringComparer.Ordinal);

    /// <summary>The enqueued parameter sets; empty where the file lists none.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> Enqueued => Enqueue ?? [];
}

/// <summary>An earlier study's trials, fed to the suggester as observations before this study's own.</summary>
/// <param name="From">The study.json's absolute path.</param>
/// <param name="Trials">Its finished trials in file order (failed ones with no value), or null where the file was not
/// read (<see cref="StudyFile.Parse"/> with <c>readWarmStart: false</c>).</param>
public sealed record WarmStartSpec(string From, IReadOnlyList<WarmStartTrial>? Trials);

/// <summary>One finished trial of an earlier study, in this study's space.</summary>
/// <param name="Value">Its value of this study's objective metric; null where it failed or reported none.</param>
public sealed record WarmStartTrial(int Number, IReadOnlyDictionary<string, ParameterValue> Parameters, double? Value);

/// <param name="Reference">The objective's coordinate of the hypervolume reference point (a value as reported, no better
/// than any trial worth counting); null: derived from the trials.</param>
public sealed record ObjectiveSpec(string Metric, Goal Goal, double? Target, IReadOnlyList<string> AdditionalMetrics, double? Reference = null)
{
    /// <summary>The metrics the study file names: never left out of a trial's record, however many others it reports.</summary>
    public IReadOnlyList<string> Named => [Metric, .. AdditionalMetrics];

    /// <summary>The objective as a loss to minimise: suggesters always minimise.</summary>
    public double ToLoss(double value) => Goal == Goal.Minimize ? value : -value;

    public bool IsBetter(double candidate, double incumbent) =>
        Goal == Goal.Minimize ? candidate < incumbent : candidate > incumbent;

    public bool Reached(double value) =>
        Target is { } target && (Goal == Goal.Minimize ? value <= target : value >= target);
}

/// <summary>A bound on a metric a feasible trial holds: at most <paramref name="Max"/>, at least <paramref name="Min"/> (one or both).</summary>
/// <param name="Monotone">Whether the metric only moves away from its bound as a trial trains (memory, time spent), so a
/// trial that breaks it at a step cannot become feasible and may be stopped there.</param>
public sealed record ConstraintSpec(string Metric, double? Max, double? Min, bool Monotone)
{
    /// <summary>How far <paramref name="value"/> lies beyond the nearer bound: at most 0 where it holds them (the
    /// margin, negated), positive where it breaks one. What a model of the constraint learns.</summary>
    public double Excess(double value) =>
        Math.Max(value - (Max ?? double.PositiveInfinity), (Min ?? double.NegativeInfinity) - value);

    /// <summary>How far <paramref name="value"/> lies outside the bounds: 0 where it holds them.</summary>
    public double Violation(double value) => Math.Max(0, Excess(value));
}

/// <param name="Seed">Null where the file gave none: the study then draws one and keeps it.</param>
public sealed record AlgorithmSpec(string Name, int? Seed, IReadOnlyDictionary<string, string> Settings);

public sealed record EarlyStoppingSpec(string Name, IReadOnlyDictionary<string, string> Settings);

/// <param name="TrialDiskQuota">The most a trial's folders may hold on disk (its logs and outputs), in bytes; a trial past it is killed.</param>
/// <param name="MaxRetries">How often a trial that failed for want of the machinery (a lost silo, an evicted pod) runs again.</param>
/// <param name="MaxSteps">The most steps the study's trials may report together (each trial's highest step, summed): a budget in epochs.</param>
/// <param name="MaxTime">The most wall-clock time the study may take from its creation.</param>
public sealed record BudgetSpec(int MaxTrials, int ParallelTrials, int MaxFailedTrials, TimeSpan? TrialTimeout,
    long TrialDiskQuota = BudgetSpec.DefaultTrialDiskQuota, int MaxRetries = BudgetSpec.DefaultMaxRetries, long? MaxSteps = null, TimeSpan? MaxTime = null)
{
    /// <summary>10 GiB: far beyond a typical trial, small enough that one runaway step cannot fill the disk by itself.</summary>
    public const long DefaultTrialDiskQuota = 10L << 30;

    public const int DefaultMaxRetries = 2;
}

/// <param name="External">Set for trials run by clients that ask for parameters and tell results (no steps).</param>
public sealed record PipelineSpec(string Executor, KubernetesSpec? Kubernetes, IReadOnlyList<StepSpec> Steps, ExternalSpec? External = null);

/// <summary><c>trial: {external: ...}</c>: the tuner suggests, clients run; a trial silent for <paramref name="HeartbeatTimeout"/> is handed out again.</summary>
public sealed record ExternalSpec(TimeSpan HeartbeatTimeout)
{
    public static readonly TimeSpan DefaultHeartbeatTimeout = TimeSpan.FromMinutes(5);
}

public sealed record KubernetesSpec(string? Namespace, string? VolumeClaim);

/// <param name="Command">The argument vector; placeholders are substituted per trial, no shell is involved.</param>
public sealed record StepSpec(
    string Name,
    IReadOnlyList<string> DependsOn,
    IReadOnlyList<string> Command,
    string? Image,
    IReadOnlyDictionary<string, string> Environment,
    ResourceSpec Resources,
    bool Cache);

/// <param name="Gpu">GPUs the step uses: a fraction (0.25) shares one device, a whole number takes that many.</param>
/// <param name="Cpu">Cores the step uses; where given, steps take cores in turn so the machine is not oversubscribed.</param>
public sealed record ResourceSpec(double Gpu, double? Cpu, string? Memory)
{
    public static readonly ResourceSpec None = new(0, null, null);
}
