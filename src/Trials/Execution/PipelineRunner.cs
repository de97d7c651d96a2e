using System.Globalization;
using Tuning.Algorithms.Space;
using Tuning.Trials.Caching;
using Tuning.Trials.Studies;

namespace Tuning.Trials.Execution;

public enum TrialOutcome { Succeeded, Failed, Cancelled, EarlyStopped }

/// <summary>What one step of a trial did, as study.json shows it: a step taken from the cache ran 0 seconds.</summary>
public sealed record StepSummary(string Name, bool Cached, double Seconds, string? Error);

/// <summary>The end of one trial's pipeline: how it ended, every metric it reported, and each step's share.</summary>
/// <param name="Retryable">The trial failed for want of the machinery (a node lost, a pod evicted), not through its own doing: worth running again.</param>
public sealed record TrialResult(TrialOutcome Outcome, MetricReport Metrics, IReadOnlyList<StepSummary> Steps, string? Error, bool Retryable = false);

/// <summary>The trial a pipeline runs for: its identity, parameters and folder.</summary>
public sealed record TrialRun(string TrialId, int Number, IReadOnlyDictionary<string, ParameterValue> Parameters, string TrialDirectory);

/// <summary>What the owner of a running trial hears of it (each metric line as it comes), and how it stops it early.</summary>
public sealed record TrialWatch(Action<MetricReport> Reported, CancellationToken EarlyStop);

/// <summary>
/// Runs a study's trial pipeline for one trial: each step once the steps it depends on have succeeded, independent
/// steps at the same time; placeholders substituted, metrics merged, and the outcome judged (exit codes, the
/// objective reported and finite, the trial timeout). A failed step fails the trial with its name and reason, ends
/// the steps running beside it and starts none after it.
/// </summary>
/// <remarks>
/// With a <paramref name="cache"/>, a step whose cache key has an entry is not run: its stored outputs and metrics are
/// used. A missing key is computed once at a time through <paramref name="gate"/>: trials that need it meanwhile wait
/// for that run and take its entry, or its failure. Only a step that succeeded is stored.
/// </remarks>
public sealed class PipelineRunner
{
    private readonly StudySpec _spec;
    private readonly IStepExecutor _executor;
    private readonly StepCache? _cache;
    private readonly IStepRunGate _gate;
    private readonly IReadOnlyList<StepSpec> _order;

    public PipelineRunner(StudySpec spec, IStepExecutor executor, StepCache? cache = null, IStepRunGate? gate = null)
    {
        _spec = spec;
        _executor = executor;
        _cache = cache;
        // A cache shared by several runners needs their shared gate, or each would compute a missing key itself.
        _gate = gate ?? (cache is null ? new LocalStepRunGate() : throw new ArgumentNullException(nameof(gate), "a runner with a cache needs the gate its cache's users share"));
        _order = TopologicalOrder(spec.Trial.Steps);
    }

    /// <summary>How often a step computing a cache key says it is still at work: well within the turn's lease.</summary>
    private static readonly TimeSpan RenewEvery = StepRunTurns.Lease / 4;

    public async Task<TrialResult> RunAsync(TrialRun trial, CancellationToken cancellation, TrialWatch? watch = null)
    {
        await StartCleanAsync(trial.TrialDirectory).ConfigureAwait(false);
        if (cancellation.IsCancellationRequested) return new TrialResult(TrialOutcome.Cancelled, new MetricReport(), [], "cancelled");
        var earlyStop = watch?.EarlyStop ?? CancellationToken.None;
        // Cancelled to end every running step: the trial stopped or stopped early, or a step failed.
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellation, earlyStop);
        using var deadline = new TrialDeadline(_spec.Budget.TrialTimeout, abort.Token);
        var run = new Run(this, trial, deadline, abort, watch?.Reported, cancellation, earlyStop);
        // What ended the trial is what happened first: a stop, an early stop, the timeout or a step's failure; what
        // comes after it (the early stop of a trial whose step has already failed, say) changes nothing.
        using var onCancel = cancellation.Register(() => run.EndedFromOutside());
        using var onEarlyStop = earlyStop.Register(() => run.EndedFromOutside());
        using var onTimeout = deadline.Token.Register(() => run.EndedFromOutside());

        var steps = new Dictionary<string, Task<StepDone>>(StringComparer.Ordinal);
        var quota = new Periodic(DiskQuotaPoll, run.WithinQuotaAsync);
        foreach (var step in _order) steps[step.Name] = run.WhenReadyAsync(step, steps);
        var done = await Task.WhenAll(_order.Select(step => steps[step.Name])).ConfigureAwait(false);
        await quota.StopAsync().ConfigureAwait(false);

        var metrics = new MetricReport(_spec.Objective.Named);
        foreach (var step in done) metrics.Merge(step.Metrics);
        var summaries = done.Select(d => d.Summary).OfType<StepSummary>().ToArray();
        TrialResult Ended(TrialOutcome outcome, string? error, bool retryable = false) => new(outcome, metrics, summaries, error, retryable);

        // A trial whose every step succeeded is judged by what it reported, however late a stop came.
        if (!done.All(d => d.Succeeded)) return Ended(run.End.Outcome, run.End.Error, run.End.Infrastructure);
        // What its steps left counts too, though none ran long enough to be caught writing it.
        if (run.OverQuota() is { } overQuota) return Ended(TrialOutcome.Failed, overQuota);

        // Every objective and every constrained metric: a trial whose feasibility is unknown cannot be compared.
        foreach (var metric in _spec.RequiredMetrics)
        {
            if (!metrics.Final.TryGetValue(metric, out var value))
                return Ended(TrialOutcome.Failed, NoMetric(metric, metrics.Rejected));
            if (!double.IsFinite(value))
                return Ended(TrialOutcome.Failed, $"the trial reported {metric}={value.ToString(CultureInfo.InvariantCulture)}, which is not a finite number");
        }
        return Ended(TrialOutcome.Succeeded, null);
    }

    /// <summary>
    /// Why a trial has no value of a metric it must report (an objective, a constrained metric): the lines among the last
    /// not understood that name it say what went wrong (a decimal comma, spaces around '='), else an example of the line wanted.
    /// </summary>
    private static string NoMetric(string metric, IEnumerable<RejectedLine> rejected)
    {
        var naming = rejected.Where(line => line.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Any(token => token == metric || token.StartsWith(metric + "=", StringComparison.Ordinal))).ToArray();
        return naming.Length == 0
            ? $"the trial reported no '{metric}' metric (print a line like '{metric}=0.5')"
            : $"the trial reported no '{metric}' metric; {string.Join("; ", naming)}";
    }

    /// <summary>
    /// How a step ended: its outputs folder (a cache entry's or the trial's own), its cache key (null when it is not
    /// cached, which keeps every step after it from being cached too), what it reported, and its line in study.json
    /// (null for a step never started).
    /// </summary>
    private sealed record StepDone(bool Succeeded, string OutputDirectory, string? Key, MetricReport Metrics, StepSummary? Summary, bool Infrastructure = false)
    {
        public static readonly StepDone NotStarted = new(false, "", null, new MetricReport(), null);
    }

    /// <summary>How often a running trial's folders are measured against <c>budget.trialDiskQuota</c>.</summary>
    public static readonly TimeSpan DiskQuotaPoll = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The bytes of the files under <paramref name="folder"/>, by their length, links not followed (a link to a large
    /// file elsewhere is not this folder's). Files that vanish while it counts are not counted.
    /// </summary>
    public static long DiskUsage(string folder)
    {
        if (!Directory.Exists(folder)) return 0;
        var files = new System.IO.Enumeration.FileSystemEnumerable<long>(folder, (ref System.IO.Enumeration.FileSystemEntry e) => e.Length,
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
        {
            ShouldIncludePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => !e.IsDirectory,
        };
        var total = 0L;
        try
        {
            foreach (var length in files) total += length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return total;
    }

    /// <summary>One trial's pipeline while it runs: the steps' shared deadline, and what ended it first.</summary>
    private sealed class Run(PipelineRunner runner, TrialRun trial, TrialDeadline deadline, CancellationTokenSource abort, Action<MetricReport>? reported,
        CancellationToken stop, CancellationToken earlyStop)
    {
        private (TrialOutcome Outcome, string Error, bool TimedOut, bool Infrastructure)? _end;
        private string? _killed;

        /// <summary>Where the trial writes besides its own folder: the cache entries its steps are building.</summary>
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _building = new(StringComparer.Ordinal);

        /// <summary>What the trial's steps wrote into the cache entries they built and stored.</summary>
        private long _cachedBytes;

        /// <summary>Why the trial is over its disk quota (what it wrote, and the quota), or null while it is within it.</summary>
        public string? OverQuota()
        {
            var quota = runner._spec.Budget.TrialDiskQuota;
            var used = DiskUsage(trial.TrialDirectory) + _building.Keys.Sum(DiskUsage) + Interlocked.Read(ref _cachedBytes);
            return used <= quota ? null
                : $"the trial wrote {StudyFile.FormatSize(used)}, over its quota of {StudyFile.FormatSize(quota)} (budget.trialDiskQuota)";
        }

        /// <summary>
        /// One look at the trial's disk use, every <see cref="DiskQuotaPoll"/>: false, the trial ended, once its folders
        /// hold more than its quota.
        /// </summary>
        public async Task<bool> WithinQuotaAsync()
        {
            // Measuring walks the folders: off the timer's thread, and never two at once.
            if (await Task.Run(OverQuota).ConfigureAwait(false) is not { } over) return true;
            Ends(TrialOutcome.Failed, over);
            return false;
        }

        /// <summary>How the trial ended, for a trial with a step that did not succeed.</summary>
        public (TrialOutcome Outcome, string Error, bool Infrastructure) End
        {
            get
            {
                lock (this)
                    return _end switch
                    {
                        { TimedOut: true } e => (e.Outcome, e.Error + (_killed is { } step ? $"; step '{step}' and its processes were killed" : "; no further step was started"), false),
                        { } e => (e.Outcome, e.Error, e.Infrastructure),
                        null => (TrialOutcome.Failed, "a step did not succeed", false),
                    };
            }
        }

        /// <summary>Records what ended the trial, if nothing did before, and ends its running steps.</summary>
        /// <summary>
        /// Records a stop, an early stop or the timeout as the trial's end if one has happened (each is flagged before
        /// its callbacks run). A step killed for it is heard ending as its cause's callback runs, or even before (its
        /// end can complete within the cancellation), so a failed step asks this first: its kill is not the cause.
        /// </summary>
        public bool EndedFromOutside()
        {
            if (stop.IsCancellationRequested) Ends(TrialOutcome.Cancelled, "cancelled");
            else if (earlyStop.IsCancellationRequested) Ends(TrialOutcome.EarlyStopped, "stopped early: its intermediate values were worse than the others' at the same step");
            else if (deadline.RanOut) Ends(TrialOutcome.Failed, $"timed out after {runner._spec.Budget.TrialTimeout} (budget.trialTimeout)", timedOut: true);
            else return false;
            return true;
        }

        public void Ends(TrialOutcome outcome, string error, bool timedOut = false, bool infrastructure = false)
        {
            lock (this) _end ??= (outcome, error, timedOut, infrastructure);
            abort.Cancel();
        }

        public async Task<StepDone> WhenReadyAsync(StepSpec step, IReadOnlyDictionary<string, Task<StepDone>> steps)
        {
            var upstream = new Dictionary<string, StepDone>(StringComparer.Ordinal);
            foreach (var dependency in step.DependsOn) upstream[dependency] = await steps[dependency].ConfigureAwait(false);
            // A trial stopped, out of time or failed elsewhere starts no further step.
            if (upstream.Values.Any(u => !u.Succeeded) || deadline.Token.IsCancellationRequested) return StepDone.NotStarted;
            await Task.Yield(); // independent steps start together, not one inside another's call
            StepDone done;
            try
            {
                done = await RunStepAsync(step, upstream).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The tuner's own trouble with a step (a full disk, an unreachable cache grain) fails it, as the
                // machinery's failure rather than the step's: the trial may run again.
                done = Failed(step, $"step '{step.Name}' could not be run: {e.Message}") with { Infrastructure = true };
            }
            if (!done.Succeeded)
            {
                lock (this) _killed ??= step.Name;
                if (!EndedFromOutside()) Ends(TrialOutcome.Failed, done.Summary?.Error ?? $"step '{step.Name}' failed", infrastructure: done.Infrastructure);
            }
            return done;
        }

        private async Task<StepDone> RunStepAsync(StepSpec step, IReadOnlyDictionary<string, StepDone> upstream)
        {
            var stepDirectory = Path.Combine(trial.TrialDirectory, step.Name);
            Directory.CreateDirectory(stepDirectory);
            var inputs = step.DependsOn.ToDictionary(d => d, d => upstream[d].OutputDirectory);
            // The step's command and environment as it sees its folders: this machine's, or the executor's mounts.
            (IReadOnlyList<string> Command, Dictionary<string, string> Environment) Resolved(FolderView view)
            {
                string Resolve(string name) => runner.ResolvePlaceholder(name, trial, view);
                return (step.Command.Select((argument, i) => runner.CommandArgument(argument, i == 0, Resolve, view)).ToArray(),
                    step.Environment.ToDictionary(e => e.Key, e => Placeholders.Substitute(e.Value, Resolve)));
            }
            StepInvocation Invocation(string outputs)
            {
                var (command, environment) = Resolved(runner._executor.SeesHostFolders
                    ? new FolderView(runner._spec.StudyDirectory, outputs, trial.TrialDirectory, d => inputs[d])
                    : FolderView.Mounted);
                return new StepInvocation(trial.TrialId, step.Name, command, stepDirectory, outputs, runner._spec.StudyDirectory,
                    environment, step.Image, step.Resources, reported, trial.TrialDirectory, inputs, runner._spec.Objective.Named);
            }

            var cached = runner._cache is not null && step.Cache && step.DependsOn.All(d => upstream[d].Key is not null);
            if (!cached) return await ExecuteAsync(step, Invocation(Path.Combine(stepDirectory, "outputs")), null).ConfigureAwait(false);

            // The key sees the folders at the mount points whatever the executor: the outputs folder is the key's own,
            // upstream outputs are named by their keys, so a key is the same on a laptop and on a cluster.
            var (keyCommand, keyEnvironment) = Resolved(FolderView.Mounted);
            var perTrial = step.Command.Concat(step.Environment.Values).Any(text => text.Contains("${trial.dir}", StringComparison.Ordinal));
            // The cache's folder is in the tuner's data folder, beside its store and the trial folders.
            var key = StepCacheKey.Compute(keyCommand, step.Image, keyEnvironment, runner._spec.StudyDirectory,
                step.DependsOn.ToDictionary(d => d, d => upstream[d].Key!), perTrial ? trial.TrialId : null,
                Path.GetDirectoryName(runner._cache!.Directory));
            return await FromCacheAsync(step, key, Invocation).ConfigureAwait(false);
        }

        /// <summary>The step's entry: found, or computed under the key's turn, or waited for while another run computes it.</summary>
        private async Task<StepDone> FromCacheAsync(StepSpec step, string key, Func<string, StepInvocation> invocation)
        {
            var cache = runner._cache!;
            Guid turn;
            while (true)
            {
                if (cache.Find(key) is { } hit) return Hit(step, key, hit);
                TurnAnswer answer;
                try
                {
                    // Waiting for another trial's run of the step does not count against this trial's timeout.
                    using (deadline.Pause()) answer = await runner._gate.EnterAsync(key, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return Failed(step, $"step '{step.Name}' was stopped while another trial computed it");
                }
                if (answer.Outcome == TurnOutcome.OtherFailed)
                    return Failed(step, $"step '{step.Name}' failed in the trial that computed it for this one: {answer.Error}");
                if (answer.Outcome != TurnOutcome.YourTurn) continue;
                turn = answer.Turn;
                break;
            }

            string? error = "the tuner failed while running the step";
            var abandoned = true;
            var renewal = new Periodic(RenewEvery, () => RenewAsync(key, turn));
            try
            {
                // A run that ended just before this turn was given left its entry.
                if (cache.Find(key) is { } late)
                {
                    (error, abandoned) = (null, false);
                    return Hit(step, key, late);
                }
                var build = cache.Begin(key);
                _building[build.OutputDirectory] = 0;
                StepDone done;
                try
                {
                    done = await ExecuteAsync(step, invocation(build.OutputDirectory), key).ConfigureAwait(false);
                }
                finally
                {
                    _building.TryRemove(build.OutputDirectory, out _);
                }
                if (done.Succeeded)
                {
                    // What the step wrote into its entry is the trial's writing, though it is kept in the cache.
                    Interlocked.Add(ref _cachedBytes, DiskUsage(build.OutputDirectory));
                    if (OverQuota() is { } over) done = Failed(step, over) with { Metrics = done.Metrics };
                }
                if (!done.Succeeded)
                {
                    StepCache.Abandon(build);
                    // A run given up (its trial stopped, or a step beside it failed) is no verdict on the step:
                    // those waiting for it compute it themselves.
                    (error, abandoned) = (done.Summary?.Error, abort.IsCancellationRequested && !deadline.RanOut);
                    return done;
                }
                CacheEntry entry;
                try
                {
                    entry = cache.Commit(build, step.Name, runner._spec.Name, done.Summary!.Seconds, done.Metrics, Path.Combine(trial.TrialDirectory, step.Name));
                }
                catch
                {
                    StepCache.Abandon(build);
                    throw;
                }
                (error, abandoned) = (null, false);
                return done with { OutputDirectory = entry.OutputDirectory };
            }
            finally
            {
                await renewal.StopAsync().ConfigureAwait(false);
                try
                {
                    await runner._gate.ExitAsync(key, turn, error, abandoned).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Unheard (the key's grain was on a silo that is gone), the turn lapses when its lease runs out and
                    // those waiting ask again: slower, never stuck.
                }
            }
        }

        private async Task<bool> RenewAsync(string key, Guid turn)
        {
            try
            {
                await runner._gate.RenewAsync(key, turn).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One renewal lost is no harm: the lease outlasts several; the next one tries again.
            }
            return true;
        }

        private StepDone Hit(StepSpec step, string key, CacheEntry entry)
        {
            StepLogs.PointToEntry(Path.Combine(trial.TrialDirectory, step.Name), entry.Folder);
            reported?.Invoke(entry.Metrics);
            return new StepDone(true, entry.OutputDirectory, key, entry.Metrics, new StepSummary(step.Name, true, 0, null));
        }

        private static StepDone Failed(StepSpec step, string error) =>
            new(false, "", null, new MetricReport(), new StepSummary(step.Name, false, 0, error));

        private async Task<StepDone> ExecuteAsync(StepSpec step, StepInvocation invocation, string? key)
        {
            var result = await runner._executor.RunAsync(invocation, deadline).ConfigureAwait(false);
            return new StepDone(result.Succeeded, invocation.OutputDirectory, key, result.Metrics,
                new StepSummary(step.Name, false, result.Duration.TotalSeconds, result.Error), result.Infrastructure);
        }
    }

    /// <summary>
    /// Every attempt of a trial starts clean: what an earlier attempt (of a killed tuner, say) left running is
    /// ended first, so it cannot write into the new attempt or hold its GPU, and its folder (logs, metrics
    /// file, outputs) is removed, so no metric of the old attempt is read as one of the new.
    /// </summary>
    private async Task StartCleanAsync(string trialDirectory)
    {
        if (!Directory.Exists(trialDirectory)) return;
        await _executor.ReclaimAsync(trialDirectory).ConfigureAwait(false);
        // A process just ended may still be closing files in the folder: a few tries before giving up.
        await FolderDeleteRetrying.ExecuteAsync(_ =>
        {
            Directory.Delete(trialDirectory, recursive: true);
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
    }

    /// <summary>Five tries, 100, 200, 300 and 400 ms apart.</summary>
    private static readonly Polly.ResiliencePipeline FolderDeleteRetrying =
        Retrying.Backoff((e, _) => e is IOException, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400), tries: 5, growth: Polly.DelayBackoffType.Linear);

    /// <summary>
    /// One argument of a step's command. Only text written literally in the study file may name a file relative
    /// to the study folder (and is then passed as that file's path as the step sees it); text substituted from a
    /// placeholder is passed as it is, so a parameter value such as <c>adam</c> never turns into a path because a
    /// folder of that name exists.
    /// </summary>
    private string CommandArgument(string argument, bool isProgram, Func<string, string> resolve, FolderView view)
    {
        if (argument.Contains("${", StringComparison.Ordinal)) return Placeholders.Substitute(argument, resolve);
        if (argument.Length == 0 || Path.IsPathRooted(argument)) return argument;
        // The program: a relative path (./train.sh, bin/run) is the study folder's; a bare name is looked up on PATH.
        if (isProgram) return argument.Contains('/') ? view.InStudy(argument) : argument;
        // --config=conf.yaml: the value after '=' names a study file as a whole argument would.
        var cut = argument.IndexOf('=');
        var (prefix, value) = cut > 0 ? (argument[..(cut + 1)], argument[(cut + 1)..]) : ("", argument);
        if (value.Length == 0 || (cut < 0 && argument.StartsWith('-')) || Path.IsPathRooted(value)) return argument;
        var candidate = Path.Combine(_spec.StudyDirectory, value);
        return File.Exists(candidate) || Directory.Exists(candidate) ? prefix + view.InStudy(value) : argument;
    }

    private string ResolvePlaceholder(string name, TrialRun trial, FolderView view)
    {
        if (Placeholders.ParameterReference(name) is { } parameter) return trial.Parameters[parameter].ToString();
        if (Placeholders.StepOutputsReference(name) is { } step) return view.Inputs(step);
        return name switch
        {
            "outputs" => view.Outputs,
            "trial.id" => trial.TrialId,
            "trial.dir" => view.Trial,
            "study.dir" => view.Study,
            _ => throw new InvalidOperationException($"placeholder '{name}' passed validation but has no value"),
        };
    }

    /// <summary>Steps ordered so that each comes after everything it depends on; ties keep the file's order.</summary>
    private static IReadOnlyList<StepSpec> TopologicalOrder(IReadOnlyList<StepSpec> steps)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<StepSpec>(steps.Count);
        while (order.Count < steps.Count)
        {
            var ready = steps.First(s => !done.Contains(s.Name) && s.DependsOn.All(done.Contains));
            done.Add(ready.Name);
            order.Add(ready);
        }
        return order;
    }
}
