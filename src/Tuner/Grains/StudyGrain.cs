using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Studies;
using Microsoft.Extensions.Options;
using Tuning.Tuner.Hosting;

namespace Tuning.Tuner.Grains;

/// <summary>
/// One study. Its persisted state is a small header (source, seed, status, how many trials were created as of its
/// last write) whose size does not grow with the study; every trial keeps its own record in its <see cref="TrialGrain"/>.
/// The grain holds the trials in memory, asks the suggester for new ones, and applies the completion rules.
/// </summary>
public sealed class StudyGrain(
    [PersistentState("study", TuningStorage.Name)] IPersistentState<StudyGrain.StudyState> state,
    [PersistentState("warmStart", TuningStorage.Name)] IPersistentState<StudyGrain.WarmStartState> warmStart,
    StudySpecCache specs,
    IOptions<TunerOptions> options,
    IGrainFactory grains) : Grain, IStudyGrain, IRemindable
{
    /// <summary>
    /// The reminder of a running study: it brings the study back on another silo if its own is lost, and on each
    /// tick finds the trials whose silo was lost and runs them again.
    /// </summary>
    private const string WatchReminder = "watch";

    [GenerateSerializer]
    public sealed record StudyState
    {
        [Id(0)] public StudySource? Source { get; init; }
        [Id(1)] public int Seed { get; init; }
        [Id(2)] public StudyStatus Status { get; init; }
        [Id(3)] public string? Reason { get; init; }
        [Id(4)] public int TrialCount { get; init; }
        [Id(5)] public DateTimeOffset CreatedAt { get; init; }
        [Id(6)] public DateTimeOffset? CompletedAt { get; init; }
    }

    /// <summary>
    /// The warm start's observations as the study read them when it was created, written once: a resumed study sees
    /// the same observations even if the earlier study.json changed or is gone since. Kept apart from the header, which
    /// is rewritten now and then as trials are handed out.
    /// </summary>
    [GenerateSerializer]
    public sealed record WarmStartState
    {
        [Id(0)] public WarmObservation[] Trials { get; init; } = [];
    }

    /// <param name="Value">The objective metric's value; null where the earlier trial failed.</param>
    [GenerateSerializer, Immutable]
    public sealed record WarmObservation([property: Id(0)] Dictionary<string, ParameterValue> Parameters, [property: Id(1)] double? Value);

    /// <summary>The trials and their bookkeeping; empty until the study is loaded (a study that does not exist has none).</summary>
    private StudyTrials _trials = new(new ObjectiveSpec("", Goal.Minimize, null, []));
    /// <summary>The warm start's observations, in its file's order: the suggester sees them before every trial of this study.</summary>
    private Observation[] _warm = [];
    private StudySpec? _spec;
    private ISuggester? _suggester;
    private EarlyStoppingRule? _earlyStopping;
    private Recommender? _recommender;

    /// <summary>
    /// The front as of the number of succeeded trials it was ranked at: clients poll the snapshot (tuner run ten times a
    /// second), and only a newly succeeded trial changes the front (a succeeded trial never changes afterwards).
    /// </summary>
    private (int Succeeded, ParetoFront? Front)? _front;
    private bool _exhausted;

    /// <summary>When each external trial's client was last heard of (ask, report, heartbeat); held in memory only.</summary>
    private readonly Dictionary<int, DateTimeOffset> _heard = [];

    /// <summary>
    /// When this activation began: the last news of a trial it has not heard of yet. A restarted server gives every
    /// client a whole timeout to get through again.
    /// </summary>
    private DateTimeOffset _activated = DateTimeOffset.UtcNow;

    private Guid Id => this.GetPrimaryKey();

    private StudySpec Spec => _spec ?? throw new StudyNotFoundException(Id);

    /// <summary>Clients run the trials (<c>trial: {external: ...}</c>): the study hands them out on ask and starts nothing.</summary>
    private bool External => Spec.Trial.External is not null;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists || state.State.Source is null) return;
        Load(state.State.Source, state.State.Seed);
        LoadWarmStart();
        // Each trial is read from its own record; batches keep a large study's activation from flooding the silo. An
        // ended study's header counts its trials (End writes it), an unended one's lags (KeepHeaderNear): the trials
        // handed out since, up to parallelTrials at once, lie past its count, so reading goes on until that many
        // numbers in a row after the last stored trial have no record.
        var ended = state.State.Status.IsTerminal();
        var records = new List<TrialRecord?>();
        var lastStored = -1;
        int Reach() => ended ? state.State.TrialCount
            : Math.Min(Math.Max(state.State.TrialCount, lastStored + 1 + Spec.Budget.ParallelTrials), Spec.Budget.MaxTrials);
        while (records.Count < Reach())
        {
            var batch = Enumerable.Range(records.Count, Math.Min(256, Reach() - records.Count)).Select(n => Trial(n).GetRecord());
            foreach (var stored in await Task.WhenAll(batch))
            {
                if (stored is not null) lastStored = records.Count;
                records.Add(stored);
            }
        }
        // Numbers past the last stored trial, and past the header's count, were never handed out for good: they go out again.
        foreach (var stored in records.Take(Math.Max(state.State.TrialCount, lastStored + 1)))
        {
            // A record stored before trials recorded it: trials 0..k-1 have always run the enqueued sets.
            var record = stored is { Enqueued: false } old && IsEnqueued(old.Number) ? old with { Enqueued = true } : stored;
            _trials.Load(record);
        }
        if (ended) _trials.CloseUnended([]);
    }

    private void Load(StudySource source, int seed)
    {
        _spec = specs.Get(source);
        _trials = new StudyTrials(_spec.Objective, _spec);
        var algorithm = AlgorithmCatalog.Find(_spec.Algorithm.Name)!;
        _suggester = algorithm.Create(_spec.Algorithm.Settings, _spec.Space, _spec.Algorithm.Seed ?? seed, _spec.Budget.MaxTrials);
        _earlyStopping = _spec.EarlyStopping is { } rule ? EarlyStoppingCatalog.Create(rule.Name, rule.Settings).Rule : null;
        _recommender = new Recommender(_spec.Space, _spec.Objective, feasible: ParetoRanking.FeasibilityTest(_spec));
    }

    private void LoadWarmStart() =>
        _warm = warmStart.State.Trials.Select(t => new Observation(t.Parameters, t.Value is { } v ? Spec.Objective.ToLoss(v) : null)).ToArray();

    public async Task<StudySnapshot> Create(StudySource source, int seed)
    {
        if (state.RecordExists) throw new InvalidOperationException($"study {Id} exists already");
        Load(source, seed);
        if (Spec.WarmStart is not null)
        {
            // Read now, once (a StudyFileException if the file went bad since it was checked), and kept before the header
            // is: a study that exists has its warm start.
            var read = StudyFile.Parse(source.Text, source.Directory).WarmStart!.Trials!;
            warmStart.State = new WarmStartState
            {
                Trials = read.Select(t => new WarmObservation(t.Parameters.ToDictionary(p => p.Key, p => p.Value), t.Value)).ToArray(),
            };
            await warmStart.WriteStateAsync();
            LoadWarmStart();
        }
        state.State = new StudyState { Source = source, Seed = seed, Status = StudyStatus.Created, CreatedAt = DateTimeOffset.UtcNow };
        await state.WriteStateAsync();
        await grains.GetGrain<IStudyRegistryGrain>(0).Register(new StudyEntry(Id, Spec.Name, source.Namespace, source.Hash(), state.State.CreatedAt));
        return Snapshot();
    }

    public async Task<StudySnapshot> Start()
    {
        _ = Spec;
        if (state.State.Status.IsTerminal()) return Snapshot();
        if (state.State.Status != StudyStatus.Running)
        {
            state.State = state.State with { Status = StudyStatus.Running };
            await state.WriteStateAsync();
        }
        await this.RegisterOrUpdateReminder(WatchReminder, options.Value.WatchPeriod, options.Value.WatchPeriod);
        if (!External) await ResumeTrials(lostAttempts: false);
        await Advance();
        return Snapshot();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WatchReminder) return;
        if (_spec is null || state.State.Status != StudyStatus.Running)
        {
            await StopWatching();
            return;
        }
        if (!External) await ResumeTrials(lostAttempts: true);
        await Advance();
    }

    /// <summary>
    /// Runs again the trials that are not running although they should: on a resume (<paramref name="lostAttempts"/>
    /// false: the whole tuner stopped, which is no trial's fault) with their own parameters; on a watch tick those
    /// whose silo was lost, each such attempt counted against <c>budget.maxRetries</c>. Trial grains keep a run that
    /// is really in flight, so this starts nothing twice. Numbers handed out but never started (a crash before their
    /// trials stored them, a later number's trial stored) are suggested again, each seeing the ones suggested before
    /// it as pending, as when they were first handed out together.
    /// </summary>
    private async Task ResumeTrials(bool lostAttempts)
    {
        var restarts = new List<Task>();
        var checks = new List<Task<TrialRecord?>>();
        var suggested = new List<IReadOnlyDictionary<string, ParameterValue>>();
        for (var number = 0; number < _trials.Count; number++)
        {
            var record = _trials[number];
            if (record is { } known && known.Status.IsTerminal()) continue;
            if (record is not null && lostAttempts)
            {
                checks.Add(Ensure(number, record));
                continue;
            }
            var parameters = record?.Parameters ?? ToDictionary(await Next(number, suggested));
            if (parameters is null) continue;
            if (record is null) suggested.Add(parameters);
            restarts.Add(StartTrial(number, parameters));
        }
        await Task.WhenAll(restarts);
        foreach (var checkedRecord in await Task.WhenAll(checks))
            if (checkedRecord is not null) _trials.Checked(checkedRecord);
    }

    /// <summary>One trial's check on a watch tick; a trial that cannot be reached now (its silo suspect) is looked at next tick.</summary>
    private async Task<TrialRecord?> Ensure(int number, TrialRecord record)
    {
        try
        {
            return await Trial(number).EnsureRunning(Assignment(number, record.Parameters), Spec.Budget.MaxRetries);
        }
        catch (OrleansException)
        {
            return null;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async Task StopWatching()
    {
        if (await this.GetReminder(WatchReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    public async Task<StudySnapshot> Stop()
    {
        // Deleted meanwhile (a stop racing a delete): said as such, not as whatever reading the forgotten spec throws.
        if (_spec is null) throw new StudyNotFoundException(Id);
        if (!state.State.Status.IsTerminal()) await End(new StudyEnd(StudyStatus.Stopped, "stopped by request"));
        return Snapshot();
    }

    /// <summary>
    /// How many trial records are forgotten at once: few enough that the silo answers other requests between
    /// batches (with 256 at once, lists waited seconds behind a large study's delete).
    /// </summary>
    private const int ForgetBatch = 16;

    /// <summary>The delete's background work, once asked; null before.</summary>
    private Task? _forgetting;

    public async Task Delete()
    {
        if (_forgetting is { IsFaulted: false }) return;
        if (!state.RecordExists)
        {
            // A delete cut short after the header went: only the registry entry is left.
            await grains.GetGrain<IStudyRegistryGrain>(0).Remove(Id);
            return;
        }
        await Stop();
        // Hidden from every front end from here on; the records go after this call has answered, since a study of
        // 10,000 trials takes seconds to forget.
        await grains.GetGrain<IStudyRegistryGrain>(0).MarkDeleting(Id);
        _forgetting = Forget();
    }

    /// <summary>
    /// Forgets the study: trial records first, the header after, out of the registry last, so a crash part-way leaves
    /// a study marked deleting, whose delete the next start finishes (<see cref="Studies.StudyService.ResumeRunningAsync"/>).
    /// </summary>
    private async Task Forget()
    {
        for (var first = 0; first < _trials.Count; first += ForgetBatch)
            await Task.WhenAll(Enumerable.Range(first, Math.Min(ForgetBatch, _trials.Count - first))
                .Select(n => grains.GetGrain<ITrialGrain>(TrialGrain.Key(Id, n)).Clear()));
        var runs = Path.Combine(options.Value.RunsDirectory, Id.ToString("N"));
        // Off the grain's thread: removing thousands of trial folders takes a while.
        await Task.Run(() =>
        {
            if (Directory.Exists(runs)) Directory.Delete(runs, recursive: true);
        });
        if (warmStart.RecordExists) await warmStart.ClearStateAsync();
        await state.ClearStateAsync();
        await grains.GetGrain<IStudyRegistryGrain>(0).Remove(Id);
        _trials.Clear();
        _spec = null;
        DeactivateOnIdle();
    }

    public Task<StudySnapshot> GetSnapshot() => Task.FromResult(Snapshot());

    public Task<RecommendedTrial?> GetRecommendation() => _recommender is null ? throw new StudyNotFoundException(Id) : _recommender.RecommendAsync(_trials, ended: state.State.Status.IsTerminal());

    public Task<TrialRecord[]> GetTrials() => Task.FromResult(_trials.OfType<TrialRecord>().ToArray());

    public Task<TrialPage> GetTrialPage(TrialQuery query) =>
        Task.FromResult(TrialPaging.Page(_trials.OfType<TrialRecord>(), query, _trials.Loss));

    public Task<StudySource> GetSource() => Task.FromResult(_spec is null ? throw new StudyNotFoundException(Id) : state.State.Source!);

    public async Task TrialFinished(TrialRecord record)
    {
        _trials.Finished(record);
        if (!state.State.Status.IsTerminal()) await Advance();
    }

    public Task<string?> TrialProgress(TrialRecord record)
    {
        if (_spec is null || state.State.Status.IsTerminal() || !_trials.Progress(record, out var judgedUpTo))
            return Task.FromResult<string?>(null);
        if (Spec.Budget.MaxSteps is { } maxSteps && _trials.StepsSpent >= maxSteps) ScheduleBudgetCheck();
        if (_earlyStopping is null) return Task.FromResult<string?>(null);
        return Task.FromResult(Spec.RanksByPareto
            ? ParetoStopping.Judge(_earlyStopping, _trials.RankedQuestion(record, judgedUpTo))
            : _earlyStopping.Judge(_trials.Question(record, judgedUpTo)));
    }

    /// <summary>Resources spent so far: the steps the trials reported and the time since the study was created.</summary>
    private ResourcesSpent Resources => new(_trials.StepsSpent, (state.State.CompletedAt ?? DateTimeOffset.UtcNow) - state.State.CreatedAt);

    /// <summary>Runs <see cref="Advance"/> when a resource budget runs out; null while the study has none to watch.</summary>
    private IGrainTimer? _budgetCheck;

    /// <summary>The longest a budget check waits: far within what a .NET timer holds, and a check that comes early waits again.</summary>
    private static readonly TimeSpan LongestBudgetWait = TimeSpan.FromDays(1);

    /// <summary>
    /// Has <see cref="Advance"/> run in a turn of its own at once where a resource budget is spent (a progress report,
    /// which interleaves and may not await the trials' stops, finds the steps spent), else when <c>budget.maxTime</c>
    /// runs out. A study without resource budgets needs no check.
    /// </summary>
    private void ScheduleBudgetCheck()
    {
        var due = StudyCompletion.ResourceBudgetSpent(Spec.Budget, Resources) is not null ? TimeSpan.Zero
            : Spec.Budget.MaxTime is { } maxTime ? TimeSpan.FromTicks(Math.Clamp((maxTime - Resources.Time).Ticks, 0, LongestBudgetWait.Ticks))
            : (TimeSpan?)null;
        if (due is not { } wait) return;
        if (_budgetCheck is null)
            _budgetCheck = this.RegisterGrainTimer(Advance, new GrainTimerCreationOptions(wait, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        else _budgetCheck.Change(wait, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends the study if a completion rule says so; otherwise fills free trial slots with new suggestions.</summary>
    private async Task Advance()
    {
        if (state.State.Status != StudyStatus.Running) return;
        if (Decide() is { } end)
        {
            await End(end);
            return;
        }

        // An external study's trials are created on ask (Ask), never here.
        if (External) return;
        var running = _trials.Counts().Running;
        var created = new List<(int Number, Dictionary<string, ParameterValue> Parameters)>();
        while (running + created.Count < Spec.Budget.ParallelTrials && _trials.Count < Spec.Budget.MaxTrials && !_exhausted)
        {
            var parameters = ToDictionary(await Next(_trials.Count, created.Select(c => (IReadOnlyDictionary<string, ParameterValue>)c.Parameters)));
            if (parameters is null)
            {
                _exhausted = true;
                break;
            }
            created.Add((_trials.HandOut(), parameters));
        }
        if (created.Count > 0)
        {
            await KeepHeaderNear();
            await Task.WhenAll(created.Select(c => StartTrial(c.Number, c.Parameters)));
        }
        else if (Decide() is { } exhaustedEnd)
        {
            await End(exhaustedEnd);
            return;
        }
        ScheduleBudgetCheck();
    }

    /// <summary>How many trials the header's count may lag behind those handed out.</summary>
    private const int HeaderLag = 64;

    /// <summary>
    /// Writes the header's count of trials handed out once it lags by <see cref="HeaderLag"/>. A number is handed out
    /// for good once its trial stores its start (the turn that hands it out awaits that), and an activation reads past
    /// the count (OnActivateAsync), so the header need not be written for every trial, which cost a store write per
    /// trial, a third of them. Written now and then, it bounds how far an activation reads, and a second activation
    /// of this study (on a silo wrongly thought lost) fails its version check here rather than only at the end.
    /// </summary>
    private async Task KeepHeaderNear()
    {
        if (_trials.Count - state.State.TrialCount < HeaderLag) return;
        state.State = state.State with { TrialCount = _trials.Count };
        await state.WriteStateAsync();
    }

    private StudyEnd? Decide() =>
        StudyCompletion.Decide(Spec, _trials.Counts(), _trials.Best()?.Metrics[Spec.Objective.Metric], _exhausted, Resources);

    private async Task StartTrial(int number, Dictionary<string, ParameterValue> parameters) =>
        _trials.Started(await Trial(number).Start(Assignment(number, parameters)));

    private ITrialGrain Trial(int number) => grains.GetGrain<ITrialGrain>(TrialGrain.Key(Id, number));

    private TrialAssignment Assignment(int number, Dictionary<string, ParameterValue> parameters) =>
        new(Id, number, parameters, state.State.Source!, IsEnqueued(number));

    public async Task<ExternalAnswer> Ask()
    {
        if (ExternalRefusal() is { } refused) return refused;
        var timeout = Spec.Trial.External!.HeartbeatTimeout;
        // A trial whose client went silent goes first, with its number and parameters, under a new attempt.
        foreach (var silent in _trials.Unended.Where(t => Heard(t.Number) + timeout < DateTimeOffset.UtcNow).ToArray())
        {
            var again = await Trial(silent.Number).AskAgain(Assignment(silent.Number, silent.Parameters),
                $"its client sent no report or heartbeat for {timeout} (trial.external.heartbeatTimeout)", Spec.Budget.MaxRetries);
            if (!again.Status.IsTerminal()) return HandedOut(again);
            await TrialFinished(again);
            if (ExternalRefusal() is { } ended) return ended;
        }
        // Then a number handed out whose trial was never stored (the process died first), a later number's trial stored.
        for (var number = 0; number < _trials.Count; number++)
            if (_trials[number] is null && ToDictionary(await Next(number)) is { } parameters)
                return HandedOut(await Trial(number).Ask(Assignment(number, parameters)));
        if (_trials.Count < Spec.Budget.MaxTrials && !_exhausted)
        {
            if (ToDictionary(await Next(_trials.Count)) is { } parameters)
            {
                var number = _trials.HandOut();
                await KeepHeaderNear();
                return HandedOut(await Trial(number).Ask(Assignment(number, parameters)));
            }
            _exhausted = true;
        }
        await Advance();
        return ExternalRefusal() ?? ExternalAnswer.Refused(Refusal.Conflict,
            $"the budget is spent: {(_exhausted ? "the search space is exhausted" : $"all {Spec.Budget.MaxTrials} trials (budget.maxTrials) were handed out")}, " +
            $"{_trials.Counts().Running} not told yet");
    }

    private ExternalAnswer HandedOut(TrialRecord record)
    {
        _trials.Started(record);
        _heard[record.Number] = DateTimeOffset.UtcNow;
        return new ExternalAnswer(record);
    }

    private DateTimeOffset Heard(int number) => _heard.TryGetValue(number, out var at) ? at : _activated;

    public async Task<ExternalAnswer> Report(int number, string attempt, long step, Dictionary<string, double> metrics)
    {
        if ((ExternalRefusal(number) ?? InvalidMetrics(number, metrics)) is { } refused) return refused;
        var reported = await Trial(number).Report(attempt, step, metrics);
        if (reported.Trial is not { } record) return reported;
        _heard[number] = DateTimeOffset.UtcNow;
        if (await TrialProgress(record) is { } reason)
        {
            // Stopped early: the trial ends here, observed at its last values; the client learns it from the answer.
            var stopped = await Trial(number).Tell(attempt, TrialStatus.EarlyStopped, [], reason);
            if (stopped.Trial is { } ended) await TrialFinished(ended);
            return reported with { Trial = stopped.Trial ?? record, StopReason = reason };
        }
        if (StudyCompletion.ResourceBudgetSpent(Spec.Budget, Resources) is null) return reported;
        // The report that spends a resource budget ends the study in this turn, not at the timer's next tick: the client
        // learns from this answer that its trial was stopped, and no report after it is taken, so the steps spent
        // exceed budget.maxSteps by nothing (a benchmark at an equal budget depends on it).
        await Advance();
        return reported with { Trial = _trials[number] ?? record, StopReason = state.State.Status.IsTerminal() ? $"the study ended: {state.State.Reason}" : null };
    }

    public async Task<ExternalAnswer> Tell(int number, string attempt, Dictionary<string, double>? metrics, string? failed)
    {
        // A tell of a trial that has ended is answered by the trial even once the study has ended (the last tell ends
        // it): the same tell again is taken, another one refused.
        var told = number >= 0 && number < _trials.Count && _trials[number] is { Status: not TrialStatus.Cancelled } known && known.Status.IsTerminal();
        if (ExternalRefusal(number, mayHaveEnded: told) is { } refused) return refused;
        if ((metrics is null) == (failed is null))
            return ExternalAnswer.Refused(Refusal.Invalid, "a tell carries either metrics (the trial succeeded) or failed (why it did not), not both nor neither");
        if (failed is { Length: > MaxFailedReason })
            return ExternalAnswer.Refused(Refusal.Invalid, $"failed: a reason of at most {MaxFailedReason} characters");
        if (metrics is not null && InvalidMetrics(number, metrics) is { } invalid) return invalid;
        // Every objective's and constrained metric's value, as a step's trial must report them.
        if (metrics is not null && Spec.RequiredMetrics.FirstOrDefault(m => !(metrics.TryGetValue(m, out var value) && double.IsFinite(value))) is { } missing)
            return ExternalAnswer.Refused(Refusal.Invalid, $"the metrics hold no finite value of the {(Spec.Objectives.Any(o => o.Metric == missing) ? "objective" : "constrained")} metric '{missing}'");
        var answer = await Trial(number).Tell(attempt, failed is null ? TrialStatus.Succeeded : TrialStatus.Failed, metrics ?? [], failed);
        if (answer.Trial is { } record) await TrialFinished(record);
        return answer;
    }

    public Task<ExternalAnswer> Heartbeat(int number, string attempt)
    {
        if (ExternalRefusal(number) is { } refused) return Task.FromResult(refused);
        var current = _trials[number]!;
        if (current.Attempt != attempt)
            return Task.FromResult(ExternalAnswer.Refused(Refusal.Conflict, TrialGrain.NotCurrent(number, current.Attempt)));
        if (current.Status.IsTerminal())
            return Task.FromResult(ExternalAnswer.Refused(Refusal.Conflict, $"trial {number} ended already ({current.Status})"));
        _heard[number] = DateTimeOffset.UtcNow;
        return Task.FromResult(new ExternalAnswer(current));
    }

    /// <summary>The longest reason a failed trial may be told with.</summary>
    private const int MaxFailedReason = 10_000;

    /// <summary>
    /// Why a client's metrics for trial <paramref name="number"/> are refused: named as a study file names them, finite,
    /// and not so many names that the trial would keep more than <see cref="Trials.Execution.MetricReport.MaxNames"/>
    /// besides the study's own (a step's are cut there; a client is told). Null where they are fine.
    /// </summary>
    private ExternalAnswer? InvalidMetrics(int number, Dictionary<string, double> metrics)
    {
        // ExternalRefusal has made sure the trial was asked for.
        var names = _trials[number]!.Metrics.Keys.Union(metrics.Keys).Except(Spec.Objective.Named).Count();
        if (names > Trials.Execution.MetricReport.MaxNames)
            return ExternalAnswer.Refused(Refusal.Invalid,
                $"a trial keeps at most {Trials.Execution.MetricReport.MaxNames} metric names besides the study's own; these metrics would make it {names}");
        foreach (var (name, value) in metrics)
        {
            // The name is quoted only once it is known to be plain.
            if (!StudyFile.IsName(name))
                return ExternalAnswer.Refused(Refusal.Invalid, "a metric name is a letter or '_', then letters, digits, '_', '.' or '-'");
            if (!double.IsFinite(value)) return ExternalAnswer.Refused(Refusal.Invalid, $"metric '{name}' is not a finite number");
        }
        return null;
    }

    /// <summary>
    /// Why a client's call is refused before it reaches a trial: the study is not external or (unless
    /// <paramref name="mayHaveEnded"/>) not running, or (with <paramref name="number"/>) no such trial was asked for.
    /// Null where it may go on.
    /// </summary>
    private ExternalAnswer? ExternalRefusal(int? number = null, bool mayHaveEnded = false)
    {
        if (!External)
            return ExternalAnswer.Refused(Refusal.Conflict, "the study runs its own trials (trial.steps); ask and tell are for studies with trial: {external: ...}");
        if (state.State.Status != StudyStatus.Running && !mayHaveEnded)
            return ExternalAnswer.Refused(Refusal.Conflict, $"the study has ended ({state.State.Status}{(state.State.Reason is { } why ? ": " + why : "")})");
        if (number is { } n && (n < 0 || n >= _trials.Count || _trials[n] is null))
            return ExternalAnswer.Refused(Refusal.NoSuchTrial, $"no trial {n} was asked for in this study");
        return null;
    }

    private async Task End(StudyEnd end)
    {
        // The running trials end first, and only then does the study (reads interleave, and no client may see an
        // ended study with a trial still Running; no other writing call runs meanwhile).
        var ended = await Task.WhenAll(_trials.Unended.ToArray().Select(t => grains.GetGrain<ITrialGrain>(TrialGrain.Key(Id, t.Number)).Cancel($"the study ended: {end.Reason}")));
        _trials.CloseUnended(ended);
        var stillRunning = state.State;
        state.State = state.State with { Status = end.Status, Reason = end.Reason, CompletedAt = DateTimeOffset.UtcNow, TrialCount = _trials.Count };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored: still running, as the store says, and the next report or tick ends it again.
            state.State = stillRunning;
            throw;
        }
        await StopWatching();
        _budgetCheck?.Dispose();
        _budgetCheck = null;
    }

    /// <summary>
    /// The parameters of trial <paramref name="number"/>: the enqueued set of that number while there are any (trials
    /// 0..k-1), the suggester's after.
    /// </summary>
    private Task<IReadOnlyDictionary<string, ParameterValue>?> Next(int number, IEnumerable<IReadOnlyDictionary<string, ParameterValue>>? alsoPending = null) =>
        IsEnqueued(number) ? Task.FromResult<IReadOnlyDictionary<string, ParameterValue>?>(Spec.Enqueued[number]) : Suggest(number, alsoPending);

    /// <summary>Trial <paramref name="number"/> runs an enqueued set (<see cref="Next"/>), which its record says.</summary>
    private bool IsEnqueued(int number) => number < Spec.Enqueued.Count;

    /// <summary>
    /// The suggestion for trial <paramref name="number"/>, computed on the thread pool: a model fit can take a
    /// second, and meanwhile the grain answers reads (they interleave). Nothing else changes the observations
    /// while this turn awaits, since every writing call waits for it.
    /// </summary>
    private Task<IReadOnlyDictionary<string, ParameterValue>?> Suggest(int number, IEnumerable<IReadOnlyDictionary<string, ParameterValue>>? alsoPending = null)
    {
        var pending = _trials.Pending.Concat(alsoPending ?? []).ToArray();
        // The warm start's observations first, in file order, then this study's in trial-number order: the same list on
        // every run of the study, resumed or not. Without a warm start the study's own list is lent, not copied (a copy
        // per trial made each trial's cost grow with the study): only a trial's end adds to it, and ends wait for this
        // turn; progress reports, which interleave, change learning curves, never the observations.
        IReadOnlyList<Observation> observations = _warm.Length == 0 ? _trials.Observations : [.. _warm, .. _trials.Observations];
        var context = new SuggestionContext(number, observations, pending, _warm.Length,
            ParetoRanking.GivenReferences(Spec));
        var suggester = _suggester!;
        return Task.Run(() => suggester.Suggest(context));
    }

    private StudySnapshot Snapshot()
    {
        var counts = _trials.Counts();
        return new StudySnapshot(Id, Spec.Name, state.State.Source!.Namespace, state.State.Status, state.State.Reason, Spec.Objective.Metric,
            Spec.Objective.Goal == Goal.Maximize, Spec.Budget.MaxTrials, _trials.Count,
            state.State.Status.IsTerminal() ? 0 : counts.Running, counts.Succeeded, counts.Failed,
            _trials.Best(), state.State.CreatedAt, state.State.CompletedAt,
            counts.EarlyStopped, counts.CachedSteps,
            Resources, Spec.Budget.MaxSteps, Spec.Budget.MaxTime, Front(counts.Succeeded));
    }

    private ParetoFront? Front(int succeeded)
    {
        if (_front is not { } kept || kept.Succeeded != succeeded) _front = kept = (succeeded, ParetoRanking.Front(Spec, _trials));
        return kept.Front;
    }

    private static Dictionary<string, ParameterValue>? ToDictionary(IReadOnlyDictionary<string, ParameterValue>? values) =>
        values?.ToDictionary(v => v.Key, v => v.Value);
}
