using System.ComponentModel;
using System.Diagnostics;

namespace Tuning.Trials.Execution;

/// <summary>
/// Runs a step as a child process of this one: the argument vector as given (no shell), in the step's own folder,
/// with standard output and error copied to <c>stdout.log</c> and <c>stderr.log</c> there and read for metric lines.
/// </summary>
/// <remarks>
/// A step that asks for GPUs waits for them in <paramref name="gpus"/> and sees only those; on a machine with
/// GPUs, a step that asks for none sees none, so it cannot take a GPU another trial was lent.
/// </remarks>
public sealed class LocalExecutor(GpuSlots gpus) : IStepExecutor
{
    public const string MetricsFileVariable = "TUNER_METRICS_FILE";

    public LocalExecutor() : this(GpuSlots.None)
    {
    }

    public async Task<StepResult> RunAsync(StepInvocation step, CancellationToken cancellation)
    {
        var wanted = step.Resources.Gpu;
        if (wanted > gpus.Count)
            return new StepResult(new MetricReport(),
                $"step '{step.StepName}' needs {wanted} GPU{(wanted == 1 ? "" : "s")} and this machine lends {gpus.Count} (set {GpuSlots.Variable} to say which to lend)",
                TimeSpan.Zero);
        var waited = Stopwatch.StartNew();
        GpuLease? lease = null;
        try
        {
            if (wanted > 0) lease = await gpus.AcquireAsync(wanted, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new StepResult(new MetricReport(), $"step '{step.StepName}' was cancelled while waiting for a GPU", waited.Elapsed);
        }
        using (lease)
            return await RunProcessAsync(step, lease, cancellation).ConfigureAwait(false);
    }

    private async Task<StepResult> RunProcessAsync(StepInvocation step, GpuLease? lease, CancellationToken cancellation)
    {
        Directory.CreateDirectory(step.OutputDirectory);
        var metricsFile = Path.Combine(step.StepDirectory, "metrics.jsonl");
        var start = new ProcessStartInfo(ResolveProgram(step.Command[0], step.StudyDirectory))
        {
            WorkingDirectory = step.StepDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var argument in step.Command.Skip(1)) start.ArgumentList.Add(ResolveArgument(argument, step.StudyDirectory));
        // Unbuffered Python output lets metric lines arrive while the step runs, not only when it exits.
        start.Environment["PYTHONUNBUFFERED"] = "1";
        foreach (var (name, value) in step.Environment) start.Environment[name] = value;
        start.Environment[MetricsFileVariable] = metricsFile;
        start.Environment["TUNER_TRIAL_ID"] = step.TrialId;
        start.Environment["TUNER_STEP"] = step.StepName;
        start.Environment["TUNER_OUTPUTS"] = step.OutputDirectory;
        if (lease is not null || gpus.Count > 0)
            start.Environment["CUDA_VISIBLE_DEVICES"] = lease is null ? "" : string.Join(",", lease.Ids);

        var metrics = new MetricReport();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new StepResult(metrics, $"step '{step.StepName}' could not start '{step.Command[0]}': {e.Message}", clock.Elapsed);
        }

        var stdout = CopyLinesAsync(process.StandardOutput, Path.Combine(step.StepDirectory, "stdout.log"), line => metrics.ReadLine(line));
        var stderr = CopyLinesAsync(process.StandardError, Path.Combine(step.StepDirectory, "stderr.log"), null);
        var killed = false;
        try
        {
            await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            killed = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        ReadMetricsFile(metricsFile, metrics);

        string? error = killed ? $"step '{step.StepName}' was killed"
            : process.ExitCode != 0 ? $"step '{step.StepName}' exited with code {process.ExitCode}{LastLine(Path.Combine(step.StepDirectory, "stderr.log"))}"
            : null;
        return new StepResult(metrics, error, clock.Elapsed);
    }

    private static async Task CopyLinesAsync(StreamReader source, string logPath, Action<string>? onLine)
    {
        await using var log = new StreamWriter(logPath, append: false);
        while (await source.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            onLine?.Invoke(line);
            await log.WriteLineAsync(line).ConfigureAwait(false);
        }
    }

    private static void ReadMetricsFile(string path, MetricReport metrics)
    {
        if (!File.Exists(path)) return;
        foreach (var line in File.ReadLines(path)) metrics.ReadJsonLine(line);
    }

    /// <summary>The last line the step wrote to standard error, so a failed trial says why without opening its logs.</summary>
    private static string LastLine(string path)
    {
        var last = File.Exists(path) ? File.ReadLines(path).LastOrDefault(l => !string.IsNullOrWhiteSpace(l)) : null;
        return last is null ? "" : ": " + (last.Length > 300 ? last[..300] + "…" : last.Trim());
    }

    /// <summary>A program named by a relative path (<c>./train.sh</c>, <c>bin/run</c>) is looked for in the study folder; a bare name on PATH.</summary>
    private static string ResolveProgram(string program, string studyDirectory) =>
        Path.IsPathRooted(program) || !program.Contains('/') ? program : Path.GetFullPath(Path.Combine(studyDirectory, program));

    /// <summary>An argument that names a file or folder relative to the study folder is passed as an absolute path.</summary>
    private static string ResolveArgument(string argument, string studyDirectory)
    {
        if (argument.Length == 0 || argument.StartsWith('-') || Path.IsPathRooted(argument) || argument.Contains('=')) return argument;
        var candidate = Path.Combine(studyDirectory, argument);
        return File.Exists(candidate) || Directory.Exists(candidate) ? Path.GetFullPath(candidate) : argument;
    }
}
