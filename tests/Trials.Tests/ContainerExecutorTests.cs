using System.Diagnostics;
using Tuning.Algorithms.Space;
using Tuning.Trials.Caching;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests;

/// <summary>Steps as real containers (podman, runc, a local busybox image), through the pipeline runner.</summary>
[Collection(StepsAlone.Name)]
public sealed class ContainerExecutorTests() : InTemporaryFolder("tuning-containers-")
{
    private ContainerExecutor Executor { get; } = new(BusyboxImage.Engine, BusyboxImage.EngineArguments, GpuSlots.None, CpuSlots.Machine());

    private StudySpec Spec(string steps, string executor = "container", string budget = "maxTrials: 10") => StudyFile.Parse($$"""
        name: container-test
        objective: {metric: objective, goal: minimize}
        budget: {{{budget}}}
        parameters:
          - {name: x, type: int, min: 0, max: 100}
        trial:
          executor: {{executor}}
          steps:
        {{steps}}
        """, Root);

    private async Task<TrialResult> Run(StudySpec spec, int number, int x = 3, IStepExecutor? executor = null, StepCache? cache = null, CancellationToken cancellation = default)
    {
        await BusyboxImage.EnsureAsync();
        return await new PipelineRunner(spec, executor ?? Executor, cache, Gate).RunAsync(
            new TrialRun($"t{Guid.NewGuid():N}-{number}", number, new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(x) }, Path.Combine(Root, "runs", number.ToString())),
            cancellation);
    }

    private LocalStepRunGate Gate { get; } = new();

    private const string Image = "image: " + BusyboxImage.Name;

    /// <summary>prepare writes its outputs; train reads them and a study script, at the mount points.</summary>
    private string Pipeline => $$"""
            - name: prepare
              {{Image}}
              command: [sh, -c, "echo 40 > ${outputs}/base; echo rows=1"]
            - name: train
              {{Image}}
              dependsOn: [prepare]
              command: [sh, ./train.sh, "${steps.prepare.outputs}/base", "${params.x}"]
        """;

    private void WriteTrainScript() => File.WriteAllText(Path.Combine(Root, "train.sh"),
        "base=$(cat $1)\necho epoch=1 objective=$(( base + $2 + 1 ))\necho \"{\\\"epoch\\\": 2, \\\"objective\\\": $(( base + $2 ))}\" >> $TUNER_METRICS_FILE\n" +
        "touch /study/written 2>/dev/null && echo study_writable=1 || echo study_writable=0\n");

    [Fact]
    public async Task A_pipeline_runs_in_containers_with_its_folders_mounted_and_reports_its_metrics()
    {
        WriteTrainScript();
        var result = await Run(Spec(Pipeline), 0, x: 2);
        Assert.True(result.Outcome == TrialOutcome.Succeeded, result.Error);
        Assert.Equal(42, result.Metrics.Final["objective"]);
        Assert.Equal([new MetricPoint(1, 43), new MetricPoint(2, 42)], result.Metrics.Intermediate["objective"]);
        Assert.Equal(0, result.Metrics.Final["study_writable"]);
        Assert.Equal(1, result.Metrics.Final["rows"]);
        Assert.Equal("40", File.ReadAllText(Path.Combine(Root, "runs", "0", "prepare", "outputs", "base")).Trim());
    }

    [Fact]
    public async Task The_same_study_file_gives_the_same_results_locally_and_in_containers()
    {
        WriteTrainScript();
        var local = await Run(Spec(Pipeline, executor: "local"), 0, x: 5, executor: new LocalExecutor());
        var contained = await Run(Spec(Pipeline), 1, x: 5);
        Assert.True(local.Outcome == TrialOutcome.Succeeded, local.Error);
        Assert.True(contained.Outcome == TrialOutcome.Succeeded, contained.Error);
        Assert.Equal(local.Metrics.Final["objective"], contained.Metrics.Final["objective"]);
        Assert.Equal(local.Metrics.Intermediate["objective"], contained.Metrics.Intermediate["objective"]);
    }

    [Fact]
    public async Task A_cached_step_is_shared_across_trials_and_executors_under_one_key()
    {
        WriteTrainScript();
        var cache = new StepCache(Path.Combine(Root, "cache"));
        var first = await Run(Spec(Pipeline), 0, x: 1, cache: cache);
        var second = await Run(Spec(Pipeline), 1, x: 2, cache: cache);
        var local = await Run(Spec(Pipeline, executor: "local"), 2, x: 3, executor: new LocalExecutor(), cache: cache);
        Assert.All(new[] { first, second, local }, r => Assert.True(r.Outcome == TrialOutcome.Succeeded, r.Error));
        Assert.Equal([false, true, true], new[] { first, second, local }.Select(r => r.Steps[0].Cached));
        Assert.Equal([41.0, 42, 43], new[] { first, second, local }.Select(r => r.Metrics.Final["objective"]));
    }

    [Fact]
    public async Task A_failing_step_fails_with_its_exit_code_and_a_missing_image_says_so()
    {
        var failed = await Run(Spec($$"""
                - {name: s, {{Image}}, command: [sh, -c, "echo no data >&2; exit 3"]}
            """), 0);
        Assert.Contains("step 's' exited with code 3: no data", failed.Error);
        var missing = await Run(Spec("""
                - {name: s, image: localhost/tuning-no-such-image:1, command: [sh, -c, "echo objective=1"]}
            """), 1);
        Assert.Equal(TrialOutcome.Failed, missing.Outcome);
        Assert.Contains("image 'localhost/tuning-no-such-image:1'", missing.Error);
    }

    /// <summary>A trial of one step run by an engine that answers every run with <paramref name="error"/> and <paramref name="exitCode"/>.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private async Task<TrialResult> RunWithFailingEngine(string error, int exitCode)
    {
        var engine = Path.Combine(Root, "podman");
        File.WriteAllText(engine, $"#!/bin/sh\necho \"{error}\" >&2\nexit {exitCode}\n");
        File.SetUnixFileMode(engine, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var failed = await Run(Spec($$"""
                - {name: s, {{Image}}, command: [sh, -c, "echo objective=1"]}
            """), 0, executor: new ContainerExecutor(engine, [], GpuSlots.None, CpuSlots.Machine()));
        Assert.Equal(TrialOutcome.Failed, failed.Outcome);
        return failed;
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task An_engine_error_the_machine_causes_says_what_to_set()
    {
        // An engine on a machine that forbids raising rlimits answers every run as podman with runc does there.
        var failed = await RunWithFailingEngine("Error: runc: runc create failed: unable to start container process: error during container init: " +
            "error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied", 126);
        Assert.Contains("step 's': podman could not start a container on this machine: Error: runc: runc create failed", failed.Error);
        Assert.Contains("set TUNER_CONTAINER_ARGS=\"--ulimit nofile=1024:1024 --ulimit nproc=1024:1024\"", failed.Error);
        // The machine's settings do not change by running the trial again.
        Assert.False(failed.Retryable);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task An_engine_that_loses_its_hold_on_a_container_fails_the_trial_as_the_machinery_not_the_step()
    {
        // podman on a loaded machine, as full test runs saw it: the container started, the engine lost its output.
        var failed = await RunWithFailingEngine("Error: failed to connect to container's attach socket: " +
            "/var/lib/containers/storage/overlay-containers/0/userdata/attach: no such file or directory", 127);
        Assert.True(failed.Retryable);
        Assert.Contains("attach socket", failed.Error);
    }

    [Fact]
    public async Task A_timed_out_or_stopped_step_is_killed_and_its_container_removed()
    {
        var spec = Spec($$"""
                - {name: s, {{Image}}, command: [sh, -c, "sleep 60"]}
            """, budget: "maxTrials: 10, trialTimeout: 2s");
        var clock = Stopwatch.StartNew();
        var timedOut = await Run(spec, 0);
        Assert.Contains("timed out", timedOut.Error);
        // The shell, the container's first process, ignores SIGTERM: the timeout must not wait out the engine's stop grace.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"took {clock.Elapsed}");
        Assert.Empty(await BusyboxImage.ContainersAsync(ContainerExecutor.FolderLabel, Path.Combine(Root, "runs", "0", "s")));

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var stopped = await Run(Spec($$"""
                - {name: s, {{Image}}, command: [sh, -c, "sleep 60"]}
            """), 1, cancellation: stop.Token);
        Assert.Equal(TrialOutcome.Cancelled, stopped.Outcome);
        Assert.Empty(await BusyboxImage.ContainersAsync(ContainerExecutor.FolderLabel, Path.Combine(Root, "runs", "1", "s")));
    }

    [Fact]
    public async Task Reclaiming_a_folder_removes_the_containers_a_killed_tuner_left_in_it()
    {
        await BusyboxImage.EnsureAsync();
        var folder = Path.Combine(Root, "runs", "7", "s");
        var other = Path.Combine(Root + "-elsewhere", "s");
        foreach (var (name, label) in new[] { ($"tuning-left-{Guid.NewGuid():N}", folder), ($"tuning-other-{Guid.NewGuid():N}", other) })
            Assert.Equal(0, await BusyboxImage.RunAsync(BusyboxImage.Engine, ["run", "-d", "--name", name, "--label", $"{ContainerExecutor.FolderLabel}={label}", .. BusyboxImage.EngineArguments, BusyboxImage.Name, "sleep", "300"]));
        try
        {
            await Executor.ReclaimAsync(Path.Combine(Root, "runs"));
            Assert.Empty(await BusyboxImage.ContainersAsync(ContainerExecutor.FolderLabel, folder));
            Assert.Single(await BusyboxImage.ContainersAsync(ContainerExecutor.FolderLabel, other));
        }
        finally
        {
            foreach (var id in await BusyboxImage.ContainersAsync(ContainerExecutor.FolderLabel, other))
                await BusyboxImage.RunAsync(BusyboxImage.Engine, "rm", "-f", id);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_engine_is_asked_for_leftovers_once_for_a_folder_and_again_only_after_a_container_started_there()
    {
        // An engine that notes each verb it is given and answers a run as the step would.
        var calls = Path.Combine(Root, "engine-calls");
        var engine = Path.Combine(Root, "podman");
        File.WriteAllText(engine, $"#!/bin/sh\necho \"$1\" >> '{calls}'\n[ \"$1\" = run ] && echo objective=1\nexit 0\n");
        File.SetUnixFileMode(engine, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var runs = Path.Combine(Root, "runs");
        var ledger = Path.Combine(runs, ContainerExecutor.LedgerName);
        var executor = new ContainerExecutor(engine, [], GpuSlots.None, CpuSlots.Machine(), ledger);
        string[] Calls() => File.Exists(calls) ? File.ReadAllLines(calls) : [];

        // A folder without a ledger may be an older tuner's, with containers it never noted: asked once. One trial's
        // folder answers for itself alone; the whole folder's answer is kept.
        Directory.CreateDirectory(Path.Combine(runs, "3"));
        await executor.ReclaimAsync(Path.Combine(runs, "3"));
        Assert.False(File.Exists(ledger));
        await executor.ReclaimAsync(runs);
        await executor.ReclaimAsync(runs);
        Assert.Equal(["ps", "ps"], Calls());
        // A new folder holds nothing to ask about.
        var fresh = Path.Combine(Root, "fresh-runs");
        Directory.CreateDirectory(fresh);
        await new ContainerExecutor(engine, [], GpuSlots.None, CpuSlots.Machine(), Path.Combine(fresh, ContainerExecutor.LedgerName)).ReclaimAsync(fresh);
        Assert.Equal(["ps", "ps"], Calls());
        Assert.True(File.Exists(Path.Combine(fresh, ContainerExecutor.LedgerName)));

        var ran = await Run(Spec($$"""
                - {name: s, {{Image}}, command: [sh, -c, "echo objective=1"]}
            """), 0, executor: executor);
        Assert.True(ran.Outcome == TrialOutcome.Succeeded, ran.Error);
        await executor.ReclaimAsync(runs);
        Assert.Equal(["ps", "ps", "run", "ps"], Calls());
    }

    [Fact]
    public void Memory_quantities_become_engine_flags() =>
        Assert.Equal(["512m", "4g", "1g"], new[] { "512Mi", "4Gi", "1G" }.Select(ContainerExecutor.MemoryFlag));
}
