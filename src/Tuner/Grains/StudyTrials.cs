using System.Collections;
using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Studies;

namespace Tuning.Tuner.Grains;

/// <summary>
/// A study's trials as its grain holds them, one slot per trial number (null: handed out, not yet started), and the
/// bookkeeping that follows from them: the observations a suggester sees, the learning curves early stopping judges,
/// which attempt's reports count, the counts the completion rules read and the best trial. Plain and used within the
/// grain's turns only, so each rule is tested without a silo; the grain keeps the lifecycle, the scheduling and the
/// calls to other grains.
/// </summary>
/// <param name="study">The study, where it ranks trials by Pareto dominance (<see cref="StudySpec.RanksByPareto"/>): each
/// observation then carries every objective and the constraints' violation too.</param>
public sealed class StudyTrials(ObjectiveSpec objective, StudySpec? study = null) : IReadOnlyList<TrialRecord?>
{
    private readonly List<TrialRecord?> _trials = [];
    private readonly List<Observation> _observations = [];
    private readonly List<int> _observedNumbers = [];

    /// <summary>The learning curves of ended trials, made once: every progress report of a running trial is judged against them.</summary>
    private readonly Dictionary<int, LearningCurve> _endedCurves = [];

    /// <summary>The highest step each trial reported (<see cref="StepsSpent"/>).</summary>
    private readonly Dictionary<int, long> _stepsReached = [];

    /// <summary>The numbers of the trials stored as not ended: a handful, however many trials the study has.</summary>
    private readonly SortedSet<int> _unended = [];

    /// <summary>
    /// The figures <see cref="Counts"/> returns, kept as records are put in their slots: the study reads them at every
    /// trial's end and every poll, and counting them by a pass over every trial made each trial's cost grow with the
    /// study (about a twentieth of the tuner's CPU at 2,000 trials).
    /// </summary>
    private int _running, _succeeded, _failed, _other, _earlyStopped, _cachedSteps;

    private TrialRecord? _best;

    /// <summary>Whether the best trial's record was replaced, so the best is found again by a scan.</summary>
    private bool _bestUnknown;

    public int Count => _trials.Count;

    public TrialRecord? this[int number] => _trials[number];

    public IEnumerator<TrialRecord?> GetEnumerator() => _trials.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Ended trials as the suggester sees them, in trial-number order whatever order they finished in: live, trials
    /// finish in any order, after a resume they are read in number order, and either way a suggester gets the same
    /// observations in the same order, so a resumed study suggests what an uninterrupted one would.
    /// </summary>
    public IReadOnlyList<Observation> Observations => _observations;

    /// <summary>The parameters of the trials handed out and not ended: what a suggester must not suggest again.</summary>
    public IEnumerable<IReadOnlyDictionary<string, ParameterValue>> Pending => Unended.Select(t => (IReadOnlyDictionary<string, ParameterValue>)t.Parameters);

    /// <summary>The trials stored as not ended, by number.</summary>
    public IEnumerable<TrialRecord> Unended => _unended.Select(number => _trials[number]!);

    /// <summary>The next trial as its record was stored (null: its number was handed out, its trial never started).</summary>
    public void Load(TrialRecord? record)
    {
        AddSlot();
        if (record is null) return;
        Set(record);
        if (record.Status.IsTerminal()) Observe(record);
    }

    /// <summary>Hands out the next trial number, its trial not started yet.</summary>
    public int HandOut()
    {
        AddSlot();
        return _trials.Count - 1;
    }

    /// <summary>A slot for the next trial number, its trial not started: counted as running, as a started trial is.</summary>
    private void AddSlot()
    {
        _trials.Add(null);
        _running++;
    }

    /// <summary>
    /// The record a trial's start returned. Its run may already have finished or reported progress: whichever record is
    /// further along is kept (a learning curve already judged is not forgotten, or its rungs would be judged again),
    /// and a new attempt replaces an earlier attempt's.
    /// </summary>
    public void Started(TrialRecord record)
    {
        if (_trials[record.Number] is not { } known || (!known.Status.IsTerminal() && (known.Intermediate.Count == 0 || known.Attempt != record.Attempt)))
            Set(record);
    }

    /// <summary>
    /// A trial's record as a check found it: ended (given up after lost attempts, or its end report not yet here), it is
    /// taken as finished; run again, its new attempt is the one whose reports count from now on.
    /// </summary>
    public void Checked(TrialRecord record)
    {
        if (record.Status.IsTerminal()) Finished(record);
        else if (_trials[record.Number] is { } known && known.Attempt != record.Attempt) Set(record);
    }

    /// <summary>A trial's end: recorded, and observed unless an end was already.</summary>
    public void Finished(TrialRecord record)
    {
        if (record.Number >= _trials.Count) return;
        var previous = _trials[record.Number];
        Set(record);
        if (previous is null || !previous.Status.IsTerminal()) Observe(record);
    }

    /// <summary>
    /// A running trial's metrics so far: taken (true) unless the trial has ended or the report is another attempt's than
    /// the one the study started last: an earlier attempt still running on a partitioned silo must not rewrite the
    /// current attempt's curve nor get it stopped early. <paramref name="judgedUpTo"/> is the last step the trial's
    /// curve reached before this report, whose rungs were judged already.
    /// </summary>
    public bool Progress(TrialRecord record, out long judgedUpTo)
    {
        judgedUpTo = long.MinValue;
        if (record.Number >= _trials.Count) return false;
        var previous = _trials[record.Number];
        if (previous is { } known && (known.Status.IsTerminal() || (known.Attempt is { } current && record.Attempt != current))) return false;
        Set(record);
        if (previous is not null) judgedUpTo = Curve(previous).LastStep;
        return true;
    }

    /// <summary>What early stopping asks about trial <paramref name="record"/> after <see cref="Progress"/> took it.</summary>
    public EarlyStoppingQuestion Question(TrialRecord record, long judgedUpTo)
    {
        var running = Unended.Where(t => t.Number != record.Number).Select(Curve);
        return new EarlyStoppingQuestion(
            Curve(record), judgedUpTo,
            _endedCurves.Where(c => _trials[c.Key]?.Status == TrialStatus.Succeeded).Select(c => c.Value).ToArray(),
            _endedCurves.Values.Concat(running).ToArray(), objective.Goal == Goal.Maximize);
    }

    /// <summary>
    /// What early stopping asks about trial <paramref name="record"/> in a study that ranks by Pareto dominance, after
    /// <see cref="Progress"/> took it: every objective's curve and the monotone constraints' of each trial.
    /// </summary>
    public ParetoQuestion RankedQuestion(TrialRecord record, long judgedUpTo)
    {
        var others = _trials.OfType<TrialRecord>().Where(t => t.Number != record.Number && t.Status != TrialStatus.Cancelled).ToArray();
        return new ParetoQuestion(
            Curves(record), judgedUpTo,
            others.Where(t => t.Status == TrialStatus.Succeeded).Select(Curves).ToArray(),
            others.Select(Curves).ToArray(),
            study!.AllConstraints.Where(c => c.Monotone).Select(c => new MonotoneBound(c.Metric, c.Max, c.Min)).ToArray());
    }

    private ObjectiveCurves Curves(TrialRecord record) => new(record.Number,
        study!.Objectives.Select(o => MetricCurve(record, o.Metric, o.ToLoss)).ToArray(),
        study.AllConstraints.Where(c => c.Monotone).Select(c => MetricCurve(record, c.Metric, value => value)).ToArray());

    /// <summary>
    /// An ended study has no running trial: one that never stored its end (its run did not end in time, or the process
    /// died between the study's end and the trial's) is shown as cancelled. <paramref name="ended"/>: what the cancelled
    /// trials answered, taken first.
    /// </summary>
    public void CloseUnended(IEnumerable<TrialRecord?> ended)
    {
        foreach (var record in ended)
            if (record is { Status: var status } && status.IsTerminal()) Set(record);
        foreach (var trial in Unended.ToArray())
            Set(trial with { Status = TrialStatus.Cancelled, Error = "the study ended before the trial stored its end" });
    }

    /// <summary>The trials by state, and their steps taken from the cache. A trial number handed out but not yet started counts as running.</summary>
    public TrialCounts Counts() => new(_running, _succeeded, _failed, _other, _earlyStopped, _cachedSteps);

    /// <summary>Adds a slot's record to the counts (<paramref name="sign"/> 1) or takes it out of them (-1).</summary>
    private void Tally(int number, TrialRecord? trial, int sign)
    {
        switch (trial?.Status)
        {
            case null or TrialStatus.Pending or TrialStatus.Running: _running += sign; break;
            case TrialStatus.Succeeded: _succeeded += sign; break;
            case TrialStatus.Failed: _failed += sign; break;
            case TrialStatus.EarlyStopped: _other += sign; _earlyStopped += sign; break;
            default: _other += sign; break;
        }
        if (trial is null) return;
        foreach (var step in trial.Steps)
            if (step.Cached) _cachedSteps += sign;
        if (trial.Status.IsTerminal()) return;
        if (sign > 0) _unended.Add(number);
        else _unended.Remove(number);
    }

    /// <summary>The succeeded trial with the best objective value, among those that hold every constraint; the first of equals.</summary>
    public TrialRecord? Best()
    {
        if (_bestUnknown)
        {
            _best = null;
            foreach (var trial in _trials)
                if (trial is not null && Beats(trial, _best)) _best = trial;
            _bestUnknown = false;
        }
        return _best;
    }

    /// <summary>
    /// Whether <paramref name="trial"/> succeeded, holds every constraint and is better than <paramref name="best"/>, or as
    /// good and numbered before it. A trial that breaks a constraint is no answer, however good its objective.
    /// </summary>
    private bool Beats(TrialRecord trial, TrialRecord? best)
    {
        if (trial.Status != TrialStatus.Succeeded || study is { AllConstraints.Count: > 0 } && !ParetoRanking.Feasible(study, trial)) return false;
        if (best is null) return true;
        var (value, bestValue) = (trial.Metrics[objective.Metric], best.Metrics[objective.Metric]);
        return objective.IsBetter(value, bestValue) || (!objective.IsBetter(bestValue, value) && trial.Number < best.Number);
    }

    /// <summary>A trial's objective as a loss, for sorting; null where it has none.</summary>
    public double? Loss(TrialRecord trial) =>
        trial.Metrics.TryGetValue(objective.Metric, out var value) && double.IsFinite(value) ? objective.ToLoss(value) : null;

    public void Clear()
    {
        _trials.Clear();
        _unended.Clear();
        (_running, _succeeded, _failed, _other, _earlyStopped, _cachedSteps) = (0, 0, 0, 0, 0, 0);
        (_best, _bestUnknown) = (null, false);
        _observations.Clear();
        _observedNumbers.Clear();
        _endedCurves.Clear();
        _stepsReached.Clear();
        StepsSpent = 0;
    }

    /// <summary>The sum over the trials of the highest step each reported: what they spent of <c>budget.maxSteps</c>.</summary>
    public long StepsSpent { get; private set; }

    /// <summary>
    /// Puts a trial's record in its slot, keeping the counts, the steps spent and the best trial known: the study asks for
    /// the best at every trial's end, and a scan of every trial each time took about 2% of the tuner's CPU at 2,000 trials.
    /// </summary>
    private void Set(TrialRecord record)
    {
        Tally(record.Number, _trials[record.Number], -1);
        _trials[record.Number] = record;
        Tally(record.Number, record, 1);
        Account(record);
        if (_bestUnknown) return;
        if (_best?.Number == record.Number && !ReferenceEquals(_best, record)) _bestUnknown = true;
        else if (Beats(record, _best)) _best = record;
    }

    /// <summary>
    /// Counts the steps a trial's record shows. A trial's highest step over its attempts counts, so steps an attempt
    /// lost to the machinery spent are not given back when the next one starts from the first step.
    /// </summary>
    private void Account(TrialRecord record)
    {
        var highest = record.Intermediate.Values.SelectMany(points => points).Select(p => p.Step).DefaultIfEmpty(0).Max();
        var before = _stepsReached.GetValueOrDefault(record.Number);
        if (highest <= before) return;
        _stepsReached[record.Number] = highest;
        StepsSpent += highest - before;
    }

    /// <summary>A trial's learning curve: the objective's intermediate values, as losses.</summary>
    private LearningCurve Curve(TrialRecord record) => MetricCurve(record, objective.Metric, objective.ToLoss);

    /// <summary>A trial's intermediate values of <paramref name="metric"/>, each made a curve's value by <paramref name="value"/>.</summary>
    private static LearningCurve MetricCurve(TrialRecord record, string metric, Func<double, double> value) =>
        new(record.Number, record.Intermediate.TryGetValue(metric, out var points)
            ? points.Select(p => new CurvePoint(p.Step, value(p.Value))).ToArray()
            : []);

    /// <summary>
    /// An ended trial with every objective and its violation. One stopped early before reporting every objective is
    /// observed with the first alone, which the suggesters of several objectives leave out.
    /// </summary>
    private static Observation Ranked(StudySpec study, TrialRecord record, Observation observation)
    {
        var complete = study.Objectives.All(o => record.Metrics.TryGetValue(o.Metric, out var value) && double.IsFinite(value));
        return observation with
        {
            Losses = complete ? ParetoRanking.Losses(study, record.Metrics) : null,
            Excesses = study.AllConstraints.Count > 0 ? ParetoRanking.Excesses(study, record.Metrics) : null,
        };
    }

    /// <summary>Adds an ended trial to the observations at its trial number's place (<see cref="Observations"/>).</summary>
    private void Observe(TrialRecord record)
    {
        if (record.Status == TrialStatus.Cancelled) return;
        var at = _observedNumbers.BinarySearch(record.Number);
        if (at >= 0) return;
        var curve = Curve(record);
        if (record.Intermediate.Count > 0) _endedCurves[record.Number] = curve;
        // A trial stopped early is observed at its last value and the step it reached, as Optuna keeps a pruned trial:
        // the suggester learns where not to look, and knows the value is a shorter run's.
        var stopped = record.Status == TrialStatus.EarlyStopped;
        var loss = record.Status == TrialStatus.Succeeded || stopped ? Loss(record) : null;
        _observedNumbers.Insert(~at, record.Number);
        var observation = new Observation(record.Parameters, loss, stopped ? Math.Max(curve.LastStep, 0) : null, curve.Points.Count > 0 ? curve.Points : null);
        _observations.Insert(~at, study is { RanksByPareto: true } && loss is not null ? Ranked(study, record, observation) : observation);
    }
}
