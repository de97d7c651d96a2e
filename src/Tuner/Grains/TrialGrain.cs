using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tuning.Trials;
using Tuning.Trials.Caching;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tuner.Hosting;

namespace Tuning.Tuner.Grains;

/// <summary>
/// One trial. <see cref="Start"/> records it as running and hands the pipeline to a background task, so the
/// process never blocks a grain turn; the task stores the outcome through <see cref="Save"/> and tells the study.
/// </summary>
public sealed class TrialGrain(
    [PersistentState("trial", TuningStorage.Name)] IPersistentState<TrialRecord> state,
    StudySpecCache specs,
    ExecutorSelector executors,
    StepCache cache,
    IStepRunGate gate,
    BackgroundWork background,
    IOptions<TunerOptions> options,
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    IClusterMembershipService membership,
    ILogger<TrialGrain> logger) : Grain, ITrialGrain
{
    private CancellationTokenSource? _run;

    /// <summary>Why the run was cancelled (its study ended, and why); null while it was not.</summary>
    private string? _cancelReason;

    /// <summary>Completed with the record a run stores at its end: what <see cref="Cancel"/> waits for.</summary>
    private TaskCompletionSource<TrialRecord>? _stored;

    /// <summary>Longer than a run takes to end once cancelled: the TERM-to-KILL grace and the wait for its output.</summary>
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(15);

    public static string Key(Guid studyId, int number) => $"{studyId:N}/{number}";

    public static string TrialId(Guid studyId, int number) => $"{studyId:N}-{number}";

    public async Task<TrialRecord> Start(TrialAssignment assignment)
    {
        if (_run is not null) return state.State;
        await Begin(assignment);

        var spec = specs.Get(assignment.Source);
        var directory = options.Value.TrialDirectory(assignment.StudyId, assignment.Number);
        var runner = new PipelineRunner(spec, executors.For(spec.Trial), cache, gate);
        var run = new TrialRun(state.State.Id, assignment.Number, assignment.Parameters, directory);
        _run = new CancellationTokenSource();
        _stored = new TaskCompletionSource<TrialRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A trial outlives Orleans' idle collection while its run lasts, however long it waits for GPUs or another
        // trial's cached step: the cancel token must stay reachable. Save deactivates it once the run has ended.
        DelayDeactivation(TimeSpan.MaxValue);
        var self = this.AsReference<ITrialGrain>();
        var started = state.State;
        var token = _run.Token;
        // Kept with the silo's background work, not in this activation: a stopping silo waits for the run to end.
        _ = background.Run($"trial {run.TrialId}", () => RunAsync(runner, run, started, self, assignment.StudyId, spec, token));
        return state.State;
    }

    /// <summary>Stores the trial as Running under a new attempt.</summary>
    private Task Begin(TrialAssignment assignment)
    {
        // An attempt that starts again keeps the reasons its earlier attempts were given up.
        var retries = state.RecordExists && !state.State.Status.IsTerminal() ? state.State.Retries : null;
        // Each attempt has an id of its own: what an earlier attempt still running somewhere reports is not this one's.
        return Write(new TrialRecord(
            TrialId(assignment.StudyId, assignment.Number), assignment.Number, TrialStatus.Running,
            assignment.Parameters, [], [], [], DateTimeOffset.UtcNow, null, null, retries, RuntimeIdentity, Guid.NewGuid().ToString("N"), assignment.Enqueued));
    }

    public async Task<TrialRecord?> EnsureRunning(TrialAssignment assignment, int maxRetries)
    {
        if (_run is not null || !state.RecordExists || state.State.Status.IsTerminal()) return state.RecordExists ? state.State : null;
        // Stored as running, yet no run is in flight in this activation. Lost only once the silo that ran it is out
        // of the cluster: while it is a member (not yet declared dead, or this very silo, whose activation was lost to
        // a storage conflict) its run may still be going, and it will report its own end.
        var ranOn = state.State.Silo;
        if (ranOn == RuntimeIdentity || membership.CurrentSnapshot.Members.Values.Any(m => m.SiloAddress.ToString() == ranOn && m.Status != SiloStatus.Dead))
            return state.State;
        // A silo that has only just started does not count the attempts it finds lost: the whole tuner may have
        // restarted (a reminder can reach a study before the silo resumes it), which is no trial's doing.
        if (DateTime.UtcNow - TunerOptions.ProcessStarted < 3 * options.Value.WatchPeriod)
        {
            logger.LogInformation("trial {Trial}: its silo {Silo} is gone; running it again", state.State.Id, ranOn);
            return await Start(assignment);
        }
        return await GiveUpAttempt($"its silo {ranOn ?? "(unknown)"} was lost", maxRetries) ? await Start(assignment) : state.State;
    }

    /// <summary>
    /// Records the current attempt as given up for <paramref name="reason"/>: true where the trial may have another,
    /// false where it failed, more than <paramref name="maxRetries"/> attempts given up.
    /// </summary>
    private async Task<bool> GiveUpAttempt(string reason, int maxRetries)
    {
        string[] retries = [.. state.State.Retries ?? [], $"attempt {(state.State.Retries?.Length ?? 0) + 1}: {reason}"];
        logger.LogWarning("trial {Trial}: {Lost}", state.State.Id, retries[^1]);
        if (retries.Length > maxRetries)
        {
            await Write(state.State with
            {
                Status = TrialStatus.Failed,
                CompletedAt = DateTimeOffset.UtcNow,
                Error = $"given up after {retries.Length} attempts lost to the machinery (budget.maxRetries {maxRetries}); last: {retries[^1]}",
                Retries = retries,
            });
            return false;
        }
        await Write(state.State with { Retries = retries });
        return true;
    }

    public async Task<TrialRecord> Ask(TrialAssignment assignment)
    {
        await Begin(assignment);
        return state.State;
    }

    public async Task<TrialRecord> AskAgain(TrialAssignment assignment, string reason, int maxRetries) =>
        await GiveUpAttempt(reason, maxRetries) ? await Ask(assignment) : state.State;

    public async Task<ExternalAnswer> Report(string attempt, long step, Dictionary<string, double> metrics)
    {
        if (Fence(attempt) is { } refused) return refused;
        var intermediate = state.State.Intermediate.ToDictionary(m => m.Key, m => m.Value);
        foreach (var (name, value) in metrics)
            intermediate[name] = [.. intermediate.GetValueOrDefault(name, []).Where(p => p.Step != step), new MetricPoint(step, value)];
        await Write(state.State with { Metrics = Merged(metrics), Intermediate = intermediate });
        return new ExternalAnswer(state.State);
    }

    public async Task<ExternalAnswer> Tell(string attempt, TrialStatus status, Dictionary<string, double> metrics, string? error)
    {
        if (state.RecordExists && state.State.Status.IsTerminal() && attempt == state.State.Attempt)
        {
            var same = state.State.Status == status && state.State.Error == error &&
                       metrics.All(m => state.State.Metrics.TryGetValue(m.Key, out var stored) && stored.Equals(m.Value));
            return same
                ? new ExternalAnswer(state.State)
                : ExternalAnswer.Refused(Refusal.Conflict, $"trial {state.State.Number} ended already ({state.State.Status}{(state.State.Error is { } why ? ": " + why : "")}); a different outcome is refused");
        }
        if (Fence(attempt) is { } refused) return refused;
        await Write(state.State with { Status = status, Metrics = Merged(metrics), CompletedAt = DateTimeOffset.UtcNow, Error = error });
        return new ExternalAnswer(state.State);
    }

    /// <summary>Why a client's call for <paramref name="attempt"/> is not taken; null where it is the current attempt of a trial not ended.</summary>
    private ExternalAnswer? Fence(string attempt)
    {
        if (!state.RecordExists) return ExternalAnswer.Refused(Refusal.NoSuchTrial, "the trial was never asked for");
        if (attempt != state.State.Attempt) return ExternalAnswer.Refused(Refusal.Conflict, NotCurrent(state.State.Number, state.State.Attempt));
        if (state.State.Status.IsTerminal())
            return ExternalAnswer.Refused(Refusal.Conflict, $"trial {state.State.Number} ended already ({state.State.Status})");
        return null;
    }

    /// <summary>Why a call from another attempt than the trial's current one is refused (the client's attempt is not quoted: it may be anything).</summary>
    public static string NotCurrent(int number, string? current) =>
        $"the attempt sent is not the current one of trial {number}: the trial was handed out again, as attempt {current}";

    /// <summary>The trial's final metrics with <paramref name="metrics"/>' values taken over: the last value reported is a metric's final one.</summary>
    private Dictionary<string, double> Merged(Dictionary<string, double> metrics)
    {
        var merged = new Dictionary<string, double>(state.State.Metrics);
        foreach (var (name, value) in metrics) merged[name] = value;
        return merged;
    }

    /// <summary>Stores <paramref name="record"/> as the trial's state; a write that fails leaves the state as it was.</summary>
    private async Task Write(TrialRecord record)
    {
        var before = state.State;
        state.State = record;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            throw;
        }
    }

    private async Task RunAsync(PipelineRunner runner, TrialRun run, TrialRecord started, ITrialGrain self, Guid studyId, StudySpec spec, CancellationToken token)
    {
        TrialRecord finished;
        try
        {
            var progress = new ProgressPump(started, self, grains.GetGrain<IStudyGrain>(studyId), spec.Objective.Named,
                reportAtOnce: spec.EarlyStopping is not null || spec.Budget.MaxSteps is not null, logger, lifetime.ApplicationStopping);
            TrialResult result;
            var retries = started.Retries ?? [];
            try
            {
                // A failure that was the machinery's (an evicted pod, a lost node) runs the trial again, up to the budget.
                while (true)
                {
                    result = await runner.RunAsync(run, token, progress.Watch);
                    if (!result.Retryable || retries.Length >= spec.Budget.MaxRetries || token.IsCancellationRequested) break;
                    retries = [.. retries, $"attempt {retries.Length + 1}: {result.Error}"];
                    logger.LogWarning("trial {Trial}: {Retry}; running it again", run.TrialId, retries[^1]);
                }
            }
            finally
            {
                await progress.StopAsync();
            }
            finished = started with
            {
                Status = result.Outcome switch
                {
                    TrialOutcome.Succeeded => TrialStatus.Succeeded,
                    TrialOutcome.Cancelled => TrialStatus.Cancelled,
                    TrialOutcome.EarlyStopped => TrialStatus.EarlyStopped,
                    _ => TrialStatus.Failed,
                },
                Metrics = result.Metrics.Final,
                Intermediate = result.Metrics.Intermediate.ToDictionary(m => m.Key, m => m.Value.ToArray()),
                Note = result.Metrics.Note,
                Steps = result.Steps.Select(s => new StepRecord(s.Name, s.Cached, s.Seconds, s.Error)).ToArray(),
                CompletedAt = DateTimeOffset.UtcNow,
                Error = result.Outcome switch
                {
                    TrialOutcome.EarlyStopped => progress.StopReason ?? result.Error,
                    TrialOutcome.Cancelled => _cancelReason ?? result.Error,
                    _ => result.Error,
                },
                Retries = retries.Length == 0 ? null : retries,
            };
        }
        catch (Exception e)
        {
            logger.LogError(e, "trial {Trial} broke", run.TrialId);
            finished = started with { Status = TrialStatus.Failed, CompletedAt = DateTimeOffset.UtcNow, Error = $"the tuner failed to run the trial: {e.Message}" };
        }
        // A run ended by this process shutting down (its steps are killed as the silo stops) has no outcome: the
        // trial stays Running in the store and runs again when the study resumes.
        if (lifetime.ApplicationStopping.IsCancellationRequested) return;
        // The outcome must reach the store, then the study, even through a store that is away for minutes or a study
        // busy fitting a large model: a lost report would leave the study waiting for this trial forever. Only an
        // outcome the trial took as its current attempt's is reported: an earlier attempt's, still running when the
        // trial was run again elsewhere, is not.
        if (await Retry(() => self.Save(finished), run.TrialId, "store"))
            await Retry(async () => { await grains.GetGrain<IStudyGrain>(studyId).TrialFinished(finished); return true; }, run.TrialId, "report");
    }

    /// <summary>
    /// What a call of <see cref="Retry"/> logs its failures with (the trial's logger, the trial and what it does), and
    /// its silo's stopping: not the call's cancellation, which would skip even the first try of a silo that has just
    /// begun to stop, where an outcome stored at once is not run again on resume.
    /// </summary>
    private static readonly Polly.ResiliencePropertyKey<(ILogger Logger, string Trial, string What, CancellationToken Stopping)> Reporting = new("tuning.trial-outcome");

    /// <summary>Tries again, each time logged, until the silo stops.</summary>
    private static readonly Polly.ResiliencePipeline UntilStopping = Retrying.Backoff((_, call) => !call.Properties.GetValue(Reporting, default).Stopping.IsCancellationRequested,
        TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30),
        retrying: (e, attempt, _, call) =>
        {
            var (logger, trial, what, _) = call.Properties.GetValue(Reporting, default);
            logger?.LogWarning(e, "trial {Trial}: could not {What} its outcome (attempt {Attempt}); trying again", trial, what, attempt);
        });

    /// <summary>Makes the call until it answers, backing off up to 30 s, while this silo is not stopping (then false).</summary>
    private async Task<bool> Retry(Func<Task<bool>> call, string trialId, string what)
    {
        try
        {
            return await UntilStopping.ExecuteAsync(call, Reporting, (logger, trialId, what, lifetime.ApplicationStopping));
        }
        catch (Exception e)
        {
            // Nothing is left to tell: a study that resumes reruns a trial whose outcome was not stored.
            logger.LogError(e, "trial {Trial}: gave up trying to {What} its outcome as the silo stops", trialId, what);
            return false;
        }
    }

    public async Task<bool> RecordProgress(TrialRecord record)
    {
        // A report that arrives after the run stored its end, or from another attempt than the current one, is out of date.
        if (_run is null || state.State.Status.IsTerminal() || record.Attempt != state.State.Attempt) return false;
        // Reports come as fast as the study answers them where it judges each, but the store needs a running trial's
        // curve only for what a restarted silo shows until the trial, which then runs again from its start, reports:
        // at most every ProgressStoreEvery, as when reports came on a timer. The grain answers with every report.
        if (DateTime.UtcNow - _progressStoredAt < ProgressStoreEvery)
        {
            state.State = record;
            return true;
        }
        await Write(record);
        _progressStoredAt = DateTime.UtcNow;
        return true;
    }

    /// <summary>How often a running trial's progress is written to the store at most (<see cref="RecordProgress"/>).</summary>
    private static readonly TimeSpan ProgressStoreEvery = TimeSpan.FromMilliseconds(500);

    /// <summary>When <see cref="RecordProgress"/> last wrote to the store.</summary>
    private DateTime _progressStoredAt;

    public Task<TrialRecord?> GetRecord() => Task.FromResult(state.RecordExists ? state.State : null);

    public async Task<TrialRecord?> Cancel(string reason)
    {
        if (_run is null || _stored is null) return state.RecordExists ? state.State : null;
        var stored = _stored.Task;
        _cancelReason = reason;
        _run.Cancel();
        try
        {
            return await stored.WaitAsync(CancelWait);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("trial {Trial}: its run did not end within {Wait} of being cancelled", state.State.Id, CancelWait);
            return state.State;
        }
    }

    public async Task Clear()
    {
        if (state.RecordExists) await state.ClearStateAsync();
        DeactivateOnIdle();
    }

    public async Task<bool> Save(TrialRecord record)
    {
        if (state.RecordExists && record.Attempt != state.State.Attempt) return false;
        await Write(record);
        _run = null;
        _stored?.TrySetResult(record);
        DeactivateOnIdle();
        return true;
    }

    /// <summary>
    /// Carries a running trial's metrics to its record and its study: the study sees learning curves as they grow and
    /// may answer that the trial should stop early. A report goes out once a metric line is heard (<see cref="Every"/>
    /// after it where the study only shows reports); lines heard while one is on its way go out together in the next.
    /// Runs beside the pipeline, never in a grain turn; a report that fails is logged and the next one, <see cref="Every"/>
    /// later, carries everything again.
    /// </summary>
    private sealed class ProgressPump
    {
        /// <summary>
        /// The wait before a report where no early-stopping rule waits for it (it only feeds displays: this spares the
        /// store a write per line) and after a report that failed.
        /// </summary>
        private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);

        private enum Outcome { Taken, Failed, SiloStopping }

        private readonly TrialRecord _started;
        private readonly ITrialGrain _trial;
        private readonly IStudyGrain _study;
        private readonly bool _reportAtOnce;
        private readonly ILogger _logger;
        private readonly CancellationToken _stopping;
        private readonly MetricReport _live;
        private readonly CancellationTokenSource _earlyStop = new();

        /// <summary>Holds one item while lines were heard that no report carried yet.</summary>
        private readonly Channel<bool> _heard = Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _pumping;

        /// <param name="reportAtOnce">
        /// The study acts on each report (an early-stopping rule judges it, a steps budget counts it): each report goes
        /// out as soon as the one before it was answered, so a stop reaches the trial milliseconds after the line that
        /// called for it, not up to a period later.
        /// </param>
        public ProgressPump(TrialRecord started, ITrialGrain trial, IStudyGrain study, IReadOnlyList<string> namedMetrics, bool reportAtOnce, ILogger logger, CancellationToken stopping)
        {
            _live = new MetricReport(namedMetrics);
            (_started, _trial, _study, _reportAtOnce, _logger, _stopping) = (started, trial, study, reportAtOnce, logger, stopping);
            Watch = new TrialWatch(Reported, _earlyStop.Token);
            _pumping = PumpAsync();
        }

        public TrialWatch Watch { get; }

        /// <summary>Why the study stopped the trial early; null while it has not.</summary>
        public string? StopReason { get; private set; }

        private void Reported(MetricReport line)
        {
            lock (_live) _live.MergeLine(line);
            _heard.Writer.TryWrite(true);
        }

        private async Task PumpAsync()
        {
            while (await _heard.Reader.WaitToReadAsync())
            {
                // Where reports only feed displays, a report waits a period after the line that called for it, taking
                // the lines heard meanwhile: a trial that ends within it is reported by its end alone, which spares a
                // short trial a store write and two grain calls.
                if (!_reportAtOnce) await Task.WhenAny(Task.Delay(Every), _ended.Task);
                if (_ended.Task.IsCompleted || !_heard.Reader.TryRead(out _)) return;
                var outcome = await ReportAsync();
                if (outcome == Outcome.SiloStopping) return;
                if (outcome != Outcome.Failed) continue;
                _heard.Writer.TryWrite(true);
                if (_reportAtOnce) await Task.WhenAny(Task.Delay(Every), _ended.Task);
            }
        }

        private async Task<Outcome> ReportAsync()
        {
            TrialRecord record;
            lock (_live)
                record = _started with
                {
                    Metrics = new Dictionary<string, double>(_live.Final),
                    Intermediate = _live.Intermediate.ToDictionary(m => m.Key, m => m.Value.ToArray()),
                    Note = _live.Note,
                };
            try
            {
                // Only the trial's current attempt may steer its study: the trial grain, which knows it, says.
                if (await _trial.RecordProgress(record) && await _study.TrialProgress(record) is { } reason && StopReason is null)
                {
                    StopReason = reason;
                    _earlyStop.Cancel();
                }
                return Outcome.Taken;
            }
            catch (Exception e)
            {
                // A silo shutting down cannot be told anything: the trial runs again on resume.
                if (_stopping.IsCancellationRequested) return Outcome.SiloStopping;
                _logger.LogWarning(e, "trial {Trial}: could not report its progress", _started.Id);
                return Outcome.Failed;
            }
        }

        public async Task StopAsync()
        {
            _ended.TrySetResult();
            _heard.Writer.TryComplete();
            await _pumping;
            _earlyStop.Dispose();
        }
    }
}
