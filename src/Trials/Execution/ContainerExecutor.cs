using System.Diagnostics;
using System.Globalization;

namespace Tuning.Trials.Execution;

/// <summary>
/// Runs each step's <c>image</c> as a container, through the engine's own client (podman, or docker where podman is
/// absent; the same flags). The study folder is mounted read-only at <c>/study</c>, the step's outputs read-write at
/// <c>/outputs</c>, the outputs of the steps it depends on read-only at <c>/inputs/STEP</c>, its trial folder at
/// <c>/trial</c> and its own folder (its working folder, with its metrics file) at <c>/step</c>. The lent GPUs are
/// passed through (CDI for podman, <c>--gpus</c> for docker). The container is removed when it ends, and when the
/// step is killed (timeout, stop, early stop); every container is labelled with its trial, step and step folder, so
/// one a killed tuner left behind is found and removed before its trial runs again.
/// </summary>
/// <remarks>
/// The client runs as a local step would (its own process group, its output read for metric lines), so timeouts,
/// logs and metrics behave the same under both executors. <see cref="ArgumentsVariable"/> adds flags a machine needs
/// (this one: <c>--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024</c>).
/// </remarks>
/// <param name="ledger">
/// A file that says whether containers ever started under the folders reclaimed: written (<see cref="Started"/>) before
/// this executor's first container starts, and left empty by the first reclaim of its folder that found it absent,
/// once the engine was asked (a folder an older tuner used may hold containers it never noted) or at once where the
/// folder is new. Where it is given and empty, the engine is not asked for leftovers: every silo's start and stop
/// reclaims, and the engine's client takes tens of milliseconds, seconds where another client holds the engine's lock,
/// on a machine whose studies run local steps only.
/// </param>
public sealed class ContainerExecutor(string engine, IReadOnlyList<string> extraArguments, GpuSlots gpus, CpuSlots cpus, string? ledger = null)
    : LocalExecutor(gpus, cpus)
{
    /// <summary>The ledger's name in the folder of trial folders it speaks for.</summary>
    public const string LedgerName = ".containers";

    /// <summary>What the ledger holds once a container started.</summary>
    private const string Started = "started";

    private volatile bool _inLedger;

    /// <summary>Extra flags for every <c>run</c>, separated by spaces.</summary>
    public const string ArgumentsVariable = "TUNER_CONTAINER_ARGS";

    /// <summary>The label that holds the step folder a container belongs to.</summary>
    public const string FolderLabel = "tuning.step-dir";

    public string Engine { get; } = engine;

    /// <summary>The engine on this machine (podman first, then docker) with the flags of <see cref="ArgumentsVariable"/>; null without one.</summary>
    public static ContainerExecutor? Detect(GpuSlots gpus, CpuSlots cpus, string? ledger = null) =>
        FindEngine() is { } engine
            ? new ContainerExecutor(engine, (Environment.GetEnvironmentVariable(ArgumentsVariable) ?? "")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries), gpus, cpus, ledger)
            : null;

    /// <summary>The path of podman, else docker, on PATH; null where neither is installed.</summary>
    public static string? FindEngine() =>
        new[] { "podman", "docker" }.Select(name => FindProgram(name, Environment.GetEnvironmentVariable("PATH")))
            .FirstOrDefault(found => found.Error is null).Path;

    public override bool SeesHostFolders => false;

    private bool IsDocker => Path.GetFileName(Engine) == "docker";

    /// <summary>One name per trial and step: a second run of the same step first removes what the first left.</summary>
    public static string ContainerName(StepInvocation step) => $"tuning-{step.TrialId}-{step.StepName}";

    protected override Launch Prepare(StepInvocation step, DeviceLease? gpuLease, string metricsFile)
    {
        WriteLedger();
        var run = new List<string>
        {
            Engine, "run", "--rm", "--name", ContainerName(step),
            "--label", $"tuning.trial={step.TrialId}", "--label", $"tuning.step={step.StepName}", "--label", $"{FolderLabel}={step.StepDirectory}",
            "-v", $"{step.StudyDirectory}:{MountPoints.Study}:ro",
            "-v", $"{step.OutputDirectory}:{MountPoints.Outputs}:rw",
            "-v", $"{step.StepDirectory}:{MountPoints.Step}:rw",
            "-w", MountPoints.Step,
        };
        if (step.TrialDirectory is { } trial) run.AddRange(["-v", $"{trial}:{MountPoints.Trial}:rw"]);
        foreach (var (name, folder) in step.Inputs ?? new Dictionary<string, string>())
            run.AddRange(["-v", $"{folder}:{MountPoints.Input(name)}:ro"]);
        foreach (var (name, value) in StepEnvironment(step, $"{MountPoints.Step}/{Path.GetFileName(metricsFile)}", MountPoints.Outputs))
            run.AddRange(["-e", $"{name}={value}"]);
        if (gpuLease is not null)
            run.AddRange(IsDocker
                ? ["--gpus", $"\"device={string.Join(",", gpuLease.Ids)}\""]
                : gpuLease.Ids.SelectMany(id => new[] { "--device", $"nvidia.com/gpu={id}" }));
        if (step.Resources.Cpu is { } cpu) run.AddRange(["--cpus", cpu.ToString(CultureInfo.InvariantCulture)]);
        if (step.Resources.Memory is { } memory) run.AddRange(["--memory", MemoryFlag(memory)]);
        run.AddRange(extraArguments);
        run.Add(step.Image!);
        run.AddRange(step.Command);
        return new Launch(run, new Dictionary<string, string>());
    }

    /// <summary>Kubernetes-style quantities (512Mi, 4Gi, 1G) as the engines' --memory takes them (512m, 4g).</summary>
    public static string MemoryFlag(string quantity) =>
        quantity.EndsWith("i", StringComparison.Ordinal) ? quantity[..^2] + char.ToLowerInvariant(quantity[^2]) : quantity.ToLowerInvariant();

    /// <summary>
    /// The engine's monitor (podman's conmon) leaves the client's session with an empty environment and must outlive
    /// the client to report the container's end and remove it: killing it with the step would leave the container.
    /// </summary>
    protected override bool EndsEscapedOrphans => false;

    /// <summary>A killed client may leave its container running (the engine's monitor keeps it): remove it.</summary>
    protected override Task AfterKillAsync(StepInvocation step) => RemoveAsync([ContainerName(step)]);

    /// <summary>
    /// Engine errors that no study file causes, only the machine (a kernel or sandbox that forbids what the runtime
    /// does by default), with the flags of <see cref="ArgumentsVariable"/> that get around them.
    /// </summary>
    private static readonly (string Says, string Advice)[] MachineAdvice =
    [
        ("error setting rlimit", $"this machine does not let the container runtime raise resource limits: set {ArgumentsVariable}=\"--ulimit nofile=1024:1024 --ulimit nproc=1024:1024\" (add --runtime runc where crun is the default)"),
        ("cgroup", $"the container runtime could not set up the container's cgroup on this machine: set {ArgumentsVariable}=\"--runtime runc\" (and --cgroups=disabled where even runc cannot)"),
    ];

    /// <summary>
    /// What the engine says when it lost its own hold on a container it started, a passing fault of a loaded machine
    /// and not of the step (podman did so in two full test runs on this 2-core machine under a load average above 14):
    /// the trial runs again.
    /// </summary>
    private static readonly string[] EngineFaults = ["failed to connect to container's attach socket", "no logs from conmon"];

    protected override bool MachineryFailed(int exitCode, string? lastErrorLine) =>
        lastErrorLine is { } said && EngineFaults.Any(fault => said.Contains(fault, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The engine answers 125 when it could not run the container at all (the image is missing, a pull was refused,
    /// a mount is wrong): the trial error says so in the engine's own words rather than as the step's exit code.
    /// </summary>
    protected override string Failure(StepInvocation step, int exitCode, string? lastErrorLine)
    {
        var engine = Path.GetFileName(Engine);
        var said = lastErrorLine is null ? "" : $": {lastErrorLine}";
        var text = lastErrorLine ?? "";
        // 126: the OCI runtime could not start the container; what this machine forbids is said with what to set.
        if (exitCode is 125 or 126 && MachineAdvice.FirstOrDefault(known => text.Contains(known.Says, StringComparison.OrdinalIgnoreCase)) is { Advice: { } advice })
            return $"step '{step.StepName}': {engine} could not start a container on this machine{said}; {advice}";
        if (exitCode != 125) return base.Failure(step, exitCode, lastErrorLine);
        if (text.Contains("image not known", StringComparison.OrdinalIgnoreCase) || text.Contains("No such image", StringComparison.OrdinalIgnoreCase)
            || text.Contains("manifest unknown", StringComparison.OrdinalIgnoreCase))
            return $"step '{step.StepName}': image '{step.Image}' is missing: not on this machine and not found by {engine}{said}";
        if (text.Contains("pull", StringComparison.OrdinalIgnoreCase) || text.Contains("registry", StringComparison.OrdinalIgnoreCase)
            || text.Contains("initializing source", StringComparison.OrdinalIgnoreCase))
            return $"step '{step.StepName}': pulling image '{step.Image}' was refused{said}";
        return $"step '{step.StepName}': {engine} could not run image '{step.Image}'{said}";
    }

    /// <summary>Records in the ledger, once, that containers start: before the first one does, so a crash cannot hide it.</summary>
    private void WriteLedger()
    {
        if (ledger is null || _inLedger) return;
        Directory.CreateDirectory(Path.GetDirectoryName(ledger)!);
        File.WriteAllText(ledger, Started);
        _inLedger = true;
    }

    /// <summary>Ends the processes of earlier runs as a local executor does, then removes their containers (where any may have started).</summary>
    public override async Task ReclaimAsync(string folder)
    {
        await base.ReclaimAsync(folder).ConfigureAwait(false);
        // Only the ledger's whole folder (not one trial's) answers for everything under it.
        var whole = ledger is not null && Path.GetDirectoryName(ledger) == Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (ledger is not null && File.Exists(ledger))
        {
            if (File.ReadAllText(ledger) != Started) return;
        }
        else if (whole && (!Directory.Exists(folder) || !Directory.EnumerateFileSystemEntries(folder).Any()))
        {
            // A new data folder: no tuner ever ran a trial here, so none left a container.
            NoteNoneLeft();
            return;
        }
        if (await RemoveLeftoversAsync(folder).ConfigureAwait(false) && whole) NoteNoneLeft();
    }

    /// <summary>Leaves the ledger empty where it is absent: asked, and none started since; never over a container's note written meanwhile.</summary>
    private void NoteNoneLeft()
    {
        if (ledger is null || File.Exists(ledger)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(ledger)!);
        try
        {
            using (new FileStream(ledger, FileMode.CreateNew, FileAccess.Write)) { }
        }
        catch (IOException) when (File.Exists(ledger))
        {
        }
    }

    /// <summary>Removes the containers labelled with a folder under <paramref name="folder"/>; false where the engine could not list them.</summary>
    private async Task<bool> RemoveLeftoversAsync(string folder)
    {
        var full = Path.GetFullPath(folder).TrimEnd('/') + "/";
        var (code, listed) = await EngineAsync(["ps", "-a", "--filter", $"label={FolderLabel}", "--format", $"{{{{.ID}}}} {{{{index .Labels \"{FolderLabel}\"}}}}"]).ConfigureAwait(false);
        if (code != 0) return false;
        var leftovers = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2))
            .Where(parts => parts.Length == 2 && (parts[1] + "/").StartsWith(full, StringComparison.Ordinal))
            .Select(parts => parts[0]).ToArray();
        if (leftovers.Length > 0) await RemoveAsync(leftovers).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Removes containers at once. The step had its SIGTERM already (the client passes it on during the grace a
    /// local step gets), so podman's own stop grace (10 s) would only stretch timeouts and shutdowns; docker's
    /// <c>rm -f</c> kills at once anyway.
    /// </summary>
    private Task RemoveAsync(IReadOnlyList<string> containers) =>
        EngineAsync(IsDocker ? ["rm", "-f", .. containers] : ["rm", "-f", "--time", "0", .. containers]);

    /// <summary>Runs the engine's client to its end: its exit code and standard output.</summary>
    private async Task<(int Code, string Output)> EngineAsync(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(Engine) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        await error.ConfigureAwait(false);
        return (process.ExitCode, await output.ConfigureAwait(false));
    }
}
