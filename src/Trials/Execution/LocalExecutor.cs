using System.ComponentModel;
using System.Diagnostics;

namespace Tuning.Trials.Execution;

/// <summary>
/// Runs a step as a child process of this one: the argument vector as given (no shell), in the step's own folder,
/// with standard output and error copied to <c>stdout.log</c> and <c>stderr.log</c> there and read for metric lines.
/// </summary>
/// <remarks>
/// A step that asks for GPUs waits for them in <paramref name="gpus"/> and sees only those; on a machine with
/// GPUs, a step that asks for none sees none, so it cannot take a GPU another trial was lent. A step that says how
/// many cores it uses waits for them in <paramref name="cpus"/>.
/// </remarks>
public class LocalExecutor(GpuSlots gpus, CpuSlots cpus) : IStepExecutor
{
    public const string MetricsFileVariable = "TUNER_METRICS_FILE";

    public LocalExecutor(GpuSlots gpus) : this(gpus, CpuSlots.Machine())
    {
    }

    public LocalExecutor() : this(GpuSlots.None)
    {
    }

    public virtual bool SeesHostFolders => true;

    public async Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline)
    {
        var wanted = step.Resources.Gpu;
        if (gpus.Refusal(step.StepName, wanted) is { } refused) return new StepResult(new MetricReport(), refused, TimeSpan.Zero);
        var waited = Stopwatch.StartNew();
        DeviceLease? gpuLease = null, cpuLease = null;
        var waitingFor = "cores";
        try
        {
            // Waiting for the machine does not count against the trial's timeout. Cores before GPUs: a step holding
            // a GPU share never waits for cores meanwhile.
            using (deadline.Pause())
            {
                if (step.Resources.Cpu is { } cores) cpuLease = await cpus.AcquireAsync(cores, deadline.Token).ConfigureAwait(false);
                waitingFor = "a GPU";
                if (wanted > 0) gpuLease = await gpus.AcquireAsync(wanted, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            cpuLease?.Dispose();
            return new StepResult(new MetricReport(),
                $"step '{step.StepName}' was cancelled while waiting for {waitingFor}", waited.Elapsed);
        }
        using (cpuLease)
        using (gpuLease)
        using (deadline.Work())
            return await RunProcessAsync(step, gpuLease, deadline.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the processes earlier runs left under <paramref name="folder"/>: by marker, and for a trial folder also
    /// by the groups its steps recorded whose leaders still run.
    /// </summary>
    public virtual Task ReclaimAsync(string folder) =>
        StepProcesses.EndAsync(folder, StepProcesses.LiveRecordedGroups(folder), StepProcesses.TerminationGrace);

    /// <summary>What this machine runs for a step: its program and arguments, and its environment.</summary>
    public sealed record Launch(IReadOnlyList<string> Command, IReadOnlyDictionary<string, string> Environment);

    /// <summary>
    /// The process to start for a step: here the step's own command, with the tuner's variables (its metrics file,
    /// trial, step and outputs) and only the GPUs it was lent visible. An executor that wraps the step (a container
    /// engine's client) starts something else that runs it.
    /// </summary>
    protected virtual Launch Prepare(StepInvocation step, DeviceLease? gpuLease, string metricsFile)
    {
        var environment = StepEnvironment(step, metricsFile, step.OutputDirectory);
        if (gpuLease is not null || gpus.Count > 0)
            environment["CUDA_VISIBLE_DEVICES"] = gpuLease is null ? "" : string.Join(",", gpuLease.Ids);
        return new Launch(step.Command, environment);
    }

    /// <summary>
    /// What every step finds in its environment, with its metrics file and outputs as it sees them: the study file's
    /// variables, the tuner's (<c>TUNER_METRICS_FILE</c>, <c>TUNER_TRIAL_ID</c>, <c>TUNER_STEP</c>, <c>TUNER_OUTPUTS</c>),
    /// and unbuffered Python output, so metric lines arrive while the step runs, not only when it exits.
    /// </summary>
    protected internal static Dictionary<string, string> StepEnvironment(StepInvocation step, string metricsFile, string outputs)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["PYTHONUNBUFFERED"] = "1" };
        foreach (var (name, value) in step.Environment) environment[name] = value;
        environment[MetricsFileVariable] = metricsFile;
        environment["TUNER_TRIAL_ID"] = step.TrialId;
        environment["TUNER_STEP"] = step.StepName;
        environment["TUNER_OUTPUTS"] = outputs;
        return environment;
    }

    /// <summary>
    /// Whether the orphans a step leaves with neither its group nor its marker end with it. An executor whose client
    /// hands the step to a monitor that must outlive the client (a container engine's) ends what is left its own way.
    /// </summary>
    protected virtual bool EndsEscapedOrphans => true;

    /// <summary>Ends what the step's process leaves running outside its process tree once it was killed (a container).</summary>
    protected virtual Task AfterKillAsync(StepInvocation step) => Task.CompletedTask;

    /// <summary>Where a step's metric lines come from, as a rejected line names it: <c>step 'train' stdout</c>.</summary>
    public static string MetricSource(StepInvocation step, bool json) => $"step '{step.StepName}' {(json ? "metrics file" : "stdout")}";

    /// <summary>Why a step that exited with <paramref name="exitCode"/> failed, given the last line of its error output.</summary>
    protected virtual string Failure(StepInvocation step, int exitCode, string? lastErrorLine) =>
        $"step '{step.StepName}' exited with code {exitCode}{(lastErrorLine is null ? "" : ": " + lastErrorLine)}";

    /// <summary>
    /// Whether a step that exited with <paramref name="exitCode"/> failed for want of the machinery rather than through
    /// its own doing, by the last line of its error output: then its trial may run again (<c>budget.maxRetries</c>).
    /// A local process's failure is always its own.
    /// </summary>
    protected virtual bool MachineryFailed(int exitCode, string? lastErrorLine) => false;

    private async Task<StepResult> RunProcessAsync(StepInvocation step, DeviceLease? lease, CancellationToken cancellation)
    {
        Directory.CreateDirectory(step.OutputDirectory);
        var metrics = new MetricReport(step.NamedMetrics);
        var clock = Stopwatch.StartNew();
        var metricsFile = Path.Combine(step.StepDirectory, "metrics.jsonl");
        var launch = Prepare(step, lease, metricsFile);
        var program = FindProgram(launch.Command[0], launch.Environment.GetValueOrDefault("PATH") ?? Environment.GetEnvironmentVariable("PATH"));
        if (program.Error is { } missing)
            return new StepResult(metrics, $"step '{step.StepName}' could not start '{launch.Command[0]}': {missing}", clock.Elapsed);

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
            environment[(string)variable.Key] = (string?)variable.Value ?? "";
        // A client key in the tuner's own environment (tuner serve started from a shell that set it) is no step's business.
        environment.Remove("TUNER_KEY");
        foreach (var (name, value) in launch.Environment) environment[name] = value;
        environment[StepProcesses.MarkerVariable] = step.StepDirectory;
        environment[StepProcesses.OwnerVariable] = StepProcesses.Self;

        // The step leads a session and process group of its own: everything it starts can be signalled at once.
        StepProcess process;
        try
        {
            process = StepProcess.Start(program.Path, launch.Command.Skip(1), environment, step.StepDirectory);
        }
        catch (Win32Exception e)
        {
            return new StepResult(metrics, $"step '{step.StepName}' could not start '{launch.Command[0]}': {e.Message}", clock.Elapsed);
        }
        using var started = process;
        // Written before anything else can go wrong, so a later run finds this group even if the tuner is killed now.
        StepProcesses.Record(step.StepDirectory, process.Group);
        IReadOnlyCollection<StepProcesses.Group> groups = [process.Group];

        var stopReading = new CancellationTokenSource();
        // Lines read once reading has stopped are not metrics of this step: the check and the read share a lock.
        void Read(string line, bool json, long number)
        {
            MetricReport? reported;
            lock (metrics)
            {
                // Output read after reading stopped belongs to a process the step left behind; its metrics file is the step's.
                if (!json && stopReading.IsCancellationRequested) return;
                reported = metrics.ReadNumberedLine(line, json, MetricSource(step, json), number);
            }
            if (reported is not null) step.Reported?.Invoke(reported);
        }
        var stdoutLines = new LineCounter(line => Read(line.Text, json: false, line.Number));
        var stdout = CopyLinesAsync(process.StandardOutput, Path.Combine(step.StepDirectory, "stdout.log"), stdoutLines.Read, stopReading.Token);
        var stderr = CopyLinesAsync(process.StandardError, Path.Combine(step.StepDirectory, "stderr.log"), null, stopReading.Token);
        var metricsLines = new AppendedLines(metricsFile, new LineCounter(line => Read(line.Text, json: true, line.Number)).Read);
        var killed = false;
        try
        {
            // The metrics file is read as it grows, so its values reach the trial while the step runs.
            var exited = process.Exited.WaitAsync(cancellation);
            while (!await Finishes(exited, MetricsFilePoll).ConfigureAwait(false)) metricsLines.ReadNew();
            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            killed = true;
        }
        // Whatever the step started ends with it: on a timeout or stop the step itself, after a normal exit what it
        // left running (background children, daemons that hold a GPU), looked for among all processes only when its
        // group or the orphans it left say something is left. Only processes started since the step are looked at.
        if (killed || StepProcesses.LeftBehind(process.Group, process.StartedAt))
            await StepProcesses.EndAsync(step.StepDirectory, groups, StepProcesses.TerminationGrace, process.Group.StartTicks,
                escapedFrom: EndsEscapedOrphans ? (process.Id, process.StartedAt) : null).ConfigureAwait(false);
        var exitCode = await process.Exited.ConfigureAwait(false);
        if (killed) await AfterKillAsync(step).ConfigureAwait(false);
        // The pipes close once every process holding them is gone. Still open after a second: either this tuner is
        // slow to read what is left (a busy machine), and the end of the output is waited for, since no one writes
        // any more; or a process that escaped even the marker holds them, and reading stops: a study never waits on
        // a process it has given up on. The read is abandoned, not awaited (a pipe read may not heed cancellation),
        // and nothing it reads counts any more.
        var readers = Task.WhenAll(stdout, stderr);
        if (!await Finishes(readers, OutputGrace).ConfigureAwait(false)
            && (StepProcesses.WrittenByOthers(process.StandardOutput.BaseStream, process.StandardError.BaseStream)
                || !await Finishes(readers, OutputDrainLimit).ConfigureAwait(false)))
            lock (metrics) stopReading.Cancel();
        metricsLines.Finish();

        var lastErrorLine = !killed && exitCode is not (null or 0) ? LastLine(Path.Combine(step.StepDirectory, "stderr.log")) : null;
        string? error = killed ? $"step '{step.StepName}' was killed"
            : exitCode is not { } code ? $"step '{step.StepName}' ended, but its exit code was taken by another wait (the tuner runs as PID 1: start it under an init such as tini)"
            : code != 0 ? Failure(step, code, lastErrorLine)
            : null;
        return new StepResult(metrics, error, clock.Elapsed, Infrastructure: exitCode is { } failed && failed != 0 && !killed && MachineryFailed(failed, lastErrorLine));
    }

    /// <summary>How often the metrics file is read while the step runs.</summary>
    protected internal static readonly TimeSpan MetricsFilePoll = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the output pipes may stay open after the step's process group has ended.</summary>
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long what is left in pipes no process writes any more is read, however busy the machine.</summary>
    private static readonly TimeSpan OutputDrainLimit = TimeSpan.FromMinutes(1);

    /// <summary>Whether the task ends within the time; its timer is released as soon as it does (the common case).</summary>
    protected internal static async Task<bool> Finishes(Task task, TimeSpan within)
    {
        try
        {
            await task.WaitAsync(within).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// The most a step's <c>stdout.log</c> or <c>stderr.log</c> holds: 64 MiB. Past it the output is still read (for
    /// metric lines, and so the step never blocks on a full pipe) but no longer kept; a last line says so.
    /// </summary>
    public const long LogLimit = 64L << 20;

    /// <summary>The line that ends a log cut at <paramref name="limit"/> bytes.</summary>
    public static string TruncationNote(long limit) => $"[tuner: log truncated after {limit} bytes]";

    /// <summary>
    /// Copies the output to the log as it comes, up to <paramref name="limit"/> bytes (<see cref="LogLimit"/> by
    /// default) and a note saying the rest was dropped, and hands its lines (at most <see cref="BoundedLines.MaxLength"/>
    /// characters each) to <paramref name="onLine"/>, until the stream ends or reading is stopped. Memory stays bounded
    /// however much the step prints, with newlines or without.
    /// </summary>
    public static async Task CopyLinesAsync(StreamReader source, string logPath, Action<string>? onLine, CancellationToken stop, long limit = LogLimit)
    {
        // Private to the tuner's user, as everything in the data folder is.
        await using var log = new StreamWriter(new FileStream(logPath, PrivateFiles.Options(FileMode.Create, FileAccess.Write, FileShare.Read)));
        var lines = onLine is null ? null : new BoundedLines(onLine);
        var buffer = new char[8192];
        var written = 0L;
        var truncated = false;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(), stop).ConfigureAwait(false)) > 0)
            {
                if (!truncated)
                {
                    var kept = Kept(buffer.AsSpan(0, read), limit - written);
                    if (kept > 0) await log.WriteAsync(buffer.AsMemory(0, kept), stop).ConfigureAwait(false);
                    written += System.Text.Encoding.UTF8.GetByteCount(buffer.AsSpan(0, kept));
                    if (kept < read)
                    {
                        truncated = true;
                        await log.WriteAsync($"\n{TruncationNote(limit)}\n".AsMemory(), stop).ConfigureAwait(false);
                        await log.FlushAsync(stop).ConfigureAwait(false);
                    }
                }
                lines?.Feed(buffer.AsSpan(0, read));
            }
            lines?.Finish();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>How many of the characters fit in <paramref name="room"/> bytes of UTF-8, never splitting a surrogate pair.</summary>
    private static int Kept(ReadOnlySpan<char> text, long room)
    {
        if (room <= 0) return 0;
        var n = (int)Math.Min(text.Length, room);
        int over;
        while (n > 0 && (over = System.Text.Encoding.UTF8.GetByteCount(text[..n]) - (int)Math.Min(room, int.MaxValue)) > 0)
            n -= Math.Max(1, over / 3);
        n = Math.Max(n, 0);
        if (n > 0 && n < text.Length && char.IsHighSurrogate(text[n - 1])) n--;
        return n;
    }

    /// <summary>The last line the step wrote to standard error, so a failed trial says why without opening its logs.</summary>
    protected internal static string? LastLine(string path) =>
        BoundedLines.LastOfFile(path) is { } last ? (last.Length > 300 ? last[..300] + "…" : last.Trim()) : null;

    /// <summary>
    /// The program to run: a path as given (the pipeline runner has made study-relative paths absolute), or a bare
    /// name looked up on PATH, as a shell would. Looked up here so that a missing program is named plainly.
    /// </summary>
    protected static (string Path, string? Error) FindProgram(string program, string? searchPath)
    {
        if (program.Contains('/'))
            return File.Exists(program) ? (program, IsExecutable(program) ? null : "it is not executable (chmod +x)") : (program, "no such file");
        // Found before on the tuner's own PATH and still there: a shell's hash table, since every trial's step looks up
        // the same program, and a search tried every folder on PATH before it (8 failed lstat calls for sh on this
        // machine, per step). A PATH a study sets may differ per trial, and is searched every time.
        var remembered = searchPath == Environment.GetEnvironmentVariable("PATH");
        if (remembered && FoundOnPath.TryGetValue((program, searchPath), out var found) && File.Exists(found) && IsExecutable(found)) return (found, null);
        foreach (var folder in (searchPath ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, program);
            if (!File.Exists(candidate) || !IsExecutable(candidate)) continue;
            if (remembered) FoundOnPath[(program, searchPath)] = candidate;
            return (candidate, null);
        }
        return (program, "no such program on PATH");
    }

    /// <summary>Where a program was found on the tuner's PATH; what was not found is looked for again every time.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Program, string? SearchPath), string> FoundOnPath = new();

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
