using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests;

/// <summary>The local executor and pipeline runner against real child processes.</summary>
[Collection(StepsAlone.Name)]
public sealed class LocalExecutorTests() : InTemporaryFolder("tuning-executor-")
{
    private async Task<TrialResult> Run(string steps, string budget = "maxTrials: 1", string parameters = "- {name: x, type: double, min: 0, max: 10}", double x = 3)
    {
        var text = $"""
            name: executor-test
            objective: {"{"}metric: objective, goal: minimize{"}"}
            budget: {"{"}{budget}{"}"}
            parameters:
              {parameters}
            trial:
              steps:
            {steps}
            """;
        var spec = StudyFile.Parse(text, Root);
        var run = new TrialRun("t-0", 0, new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(x) }, Path.Combine(Root, "trial-0"));
        return await new PipelineRunner(spec, new LocalExecutor()).RunAsync(run, CancellationToken.None);
    }

    /// <summary>The local executor's program lookup, reached from a test.</summary>
    private sealed class Lookup : LocalExecutor
    {
        public static (string Path, string? Error) Find(string program, string? searchPath) => FindProgram(program, searchPath);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_program_found_on_the_tuner_s_PATH_is_taken_from_there_while_it_exists_and_a_study_s_PATH_is_searched_each_time()
    {
        var (first, second) = (Path.Combine(Root, "first"), Path.Combine(Root, "second"));
        Directory.CreateDirectory(first);
        Directory.CreateDirectory(second);
        string Tool(string folder)
        {
            var tool = Path.Combine(folder, "tool");
            File.WriteAllText(tool, "#!/bin/sh\n");
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return tool;
        }
        // The tuner's own PATH, with the usual folders kept for whatever else runs meanwhile.
        var original = Environment.GetEnvironmentVariable("PATH");
        var tunerPath = $"{first}:{second}:{original}";
        Environment.SetEnvironmentVariable("PATH", tunerPath);
        try
        {
            Assert.Equal("no such program on PATH", Lookup.Find("tool", tunerPath).Error);
            // What was not found is not remembered: installed later, it is found.
            var inSecond = Tool(second);
            Assert.Equal((inSecond, (string?)null), Lookup.Find("tool", tunerPath));
            // As a shell's hash table: one put earlier on PATH later is not seen while the one found is there, where a
            // PATH the study set is searched afresh...
            var inFirst = Tool(first);
            Assert.Equal(inSecond, Lookup.Find("tool", tunerPath).Path);
            Assert.Equal(inFirst, Lookup.Find("tool", $"{first}:{second}").Path);
            // ...and it is seen once the one found is gone.
            File.Delete(inSecond);
            Assert.Equal(inFirst, Lookup.Find("tool", tunerPath).Path);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", original);
        }
    }

    [Fact]
    public async Task Metrics_printed_by_a_process_are_collected()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "echo starting; echo epoch=1 loss=0.5; echo objective=${params.x} runtime=2"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal(3, result.Metrics.Final["objective"]);
        Assert.Equal(2, result.Metrics.Final["runtime"]);
        Assert.Equal([new MetricPoint(1, 0.5)], result.Metrics.Intermediate["loss"]);
        Assert.Contains("starting", File.ReadAllText(Path.Combine(Root, "trial-0", "s", "stdout.log")));
    }

    [Fact]
    public async Task Metrics_can_come_from_the_metrics_file()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "echo '{\"objective\": 1.5}' >> \"$TUNER_METRICS_FILE\""]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal(1.5, result.Metrics.Final["objective"]);
    }

    [Fact]
    public async Task A_non_zero_exit_fails_the_trial_with_the_code_and_the_last_error_line()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "echo objective=1; echo 'out of memory' >&2; exit 3"]
            """);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("exited with code 3", result.Error);
        Assert.Contains("out of memory", result.Error);
    }

    [Fact]
    public async Task A_missing_objective_fails_the_trial()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "echo loss=1"]
            """);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("no 'objective' metric", result.Error);
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("inf")]
    public async Task A_non_finite_objective_fails_the_trial(string value)
    {
        var result = await Run($"""
                - name: s
                  command: [sh, -c, "echo objective={value}"]
            """);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("not a finite number", result.Error);
    }

    [Fact]
    public async Task A_program_that_does_not_exist_fails_the_trial_with_its_name()
    {
        var result = await Run("""
                - name: s
                  command: [no-such-program-here, --flag]
            """);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("no-such-program-here", result.Error);
    }

    [Fact]
    public async Task The_trial_timeout_kills_the_whole_process_tree()
    {
        var pidFile = Path.Combine(Root, "grandchild.pid");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "sleep 60 & echo $! > {{pidFile}}; wait"]
            """, budget: "maxTrials: 1, trialTimeout: 1s");
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("timed out", result.Error);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 20);
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim());
        await Task.Delay(200);
        Assert.False(StepProcesses.IsAlive(grandchild), $"the grandchild sleep ({grandchild}) still runs");
    }

    [Fact]
    public async Task Relative_paths_resolve_against_the_study_folder_and_steps_run_in_their_own_folder()
    {
        File.WriteAllText(Path.Combine(Root, "report.sh"), "echo objective=$(cat \"$1\")\npwd > where.txt\n");
        File.WriteAllText(Path.Combine(Root, "value.txt"), "4.5");
        var result = await Run("""
                - name: s
                  command: [sh, report.sh, value.txt]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal(4.5, result.Metrics.Final["objective"]);
        Assert.Equal(Path.Combine(Root, "trial-0", "s"), File.ReadAllText(Path.Combine(Root, "trial-0", "s", "where.txt")).Trim());
    }

    [Fact]
    public async Task Steps_run_in_dependency_order_and_see_each_others_outputs()
    {
        var result = await Run("""
                - name: train
                  dependsOn: [prepare]
                  command: [sh, -c, "echo objective=$(cat ${steps.prepare.outputs}/n.txt)"]
                - name: prepare
                  command: [sh, -c, "echo 7 > ${outputs}/n.txt"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal(7, result.Metrics.Final["objective"]);
        Assert.Equal(["prepare", "train"], result.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task A_descendant_that_leaves_the_group_and_holds_the_output_does_not_stretch_the_timeout()
    {
        var pidFile = Path.Combine(Root, "escaped.pid");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "(setsid sh -c 'echo $$ > {{pidFile}}; exec sleep 30' &); sleep 60; echo objective=1"]
            """, budget: "maxTrials: 1, trialTimeout: 1s");
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("timed out", result.Error);
        // The timeout, the TERM-to-KILL grace and the wait for the pipes, with room for a slow machine; not the 30 s.
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 8);
        var escaped = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.False(StepProcesses.IsAlive(escaped), $"the escaped sleep ({escaped}) still runs");
    }

    [Fact]
    public async Task A_step_that_ignores_sigterm_is_killed_after_the_grace()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Run("""
                - name: s
                  command: [sh, -c, "trap '' TERM; sleep 60 & wait; sleep 60"]
            """, budget: "maxTrials: 1, trialTimeout: 1s");
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 8);
    }

    [Fact]
    public async Task A_step_that_exits_while_a_daemon_holds_its_output_ends_with_its_metrics()
    {
        var pidFile = Path.Combine(Root, "daemon.pid");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "(setsid sh -c 'echo $$ > {{pidFile}}; exec sleep 30' &); until [ -s {{pidFile}} ]; do sleep 0.01; done; echo objective=2"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, result.Metrics.Final["objective"]);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 8);
        Assert.False(StepProcesses.IsAlive(int.Parse(File.ReadAllText(pidFile).Trim())), "the daemon outlived its step");
    }

    [Fact]
    public async Task Background_children_end_with_their_step()
    {
        var pidFile = Path.Combine(Root, "child.pid");
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "sleep 30 > /dev/null 2>&1 & echo $! > {{pidFile}}; echo objective=1"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        await Task.Delay(100);
        Assert.False(StepProcesses.IsAlive(int.Parse(File.ReadAllText(pidFile).Trim())), "the background sleep outlived its step");
    }

    [Fact]
    public async Task A_rerun_starts_clean_and_never_reports_the_metrics_of_an_earlier_attempt()
    {
        // The first attempt reports through the metrics file; the second reports nothing and must fail.
        var first = await Run("""
                - name: s
                  command: [sh, -c, "echo '{\"objective\": 1}' >> \"$TUNER_METRICS_FILE\"; echo step=1 loss=3"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, first.Outcome);
        var second = await Run("""
                - name: s
                  command: [sh, -c, "echo step=1 loss=2"]
            """);
        Assert.Equal(TrialOutcome.Failed, second.Outcome);
        Assert.Contains("no 'objective' metric", second.Error);
        Assert.Equal([new MetricPoint(1, 2)], second.Metrics.Intermediate["loss"]);
    }

    [Fact]
    public async Task A_rerun_first_ends_what_the_earlier_attempt_left_running()
    {
        // An attempt whose tuner died: its step still runs, recorded in its folder and marked in its environment.
        var stepDirectory = Path.Combine(Root, "trial-0", "s");
        Directory.CreateDirectory(stepDirectory);
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false };
        foreach (var argument in new[] { "/bin/sh", "-c", "sleep 60 & sleep 60" }) start.ArgumentList.Add(argument);
        start.Environment[StepProcesses.MarkerVariable] = stepDirectory;
        using var orphan = System.Diagnostics.Process.Start(start)!;
        StepProcesses.Record(stepDirectory, StepProcesses.GroupOf(orphan.Id)!.Value);
        await Task.Delay(100);
        var left = StepProcesses.Find(stepDirectory, []);
        Assert.True(left.Count >= 2, $"found {left.Count} processes of the earlier attempt");

        var result = await Run("""
                - name: s
                  command: [sh, -c, "echo objective=1"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        await orphan.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.All(left, pid => Assert.False(StepProcesses.IsAlive(pid), $"process {pid} of the earlier attempt still runs"));
    }

    [Fact]
    public async Task A_parameter_value_is_never_rewritten_as_a_path_but_a_literal_argument_is()
    {
        Directory.CreateDirectory(Path.Combine(Root, "adam"));
        File.WriteAllText(Path.Combine(Root, "data.txt"), "x");
        var text = """
            name: executor-test
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 1}
            parameters: [{name: optimizer, type: categorical, values: [sgd, adam]}]
            trial:
              steps:
                - name: s
                  command: [sh, -c, "echo \"$1|$2|$3\" > args.txt; echo objective=1", sh, "${params.optimizer}", data.txt, adam]
            """;
        var spec = StudyFile.Parse(text, Root);
        var run = new TrialRun("t-0", 0, new Dictionary<string, ParameterValue> { ["optimizer"] = ParameterValue.Of("adam") }, Path.Combine(Root, "trial-0"));
        var result = await new PipelineRunner(spec, new LocalExecutor()).RunAsync(run, CancellationToken.None);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        // The placeholder's value stays a word; literal arguments naming the study folder's files become paths.
        Assert.Equal($"adam|{Path.Combine(Root, "data.txt")}|{Path.Combine(Root, "adam")}",
            File.ReadAllText(Path.Combine(Root, "trial-0", "s", "args.txt")).Trim());
    }

    [Fact]
    public async Task An_endless_line_is_logged_but_not_held_in_memory_as_a_metric_line()
    {
        // 8 MiB without a newline, a metric-shaped line longer than 64 KiB, then a metric line: the long ones are
        // logged whole but read as no metric, and the last still counts.
        var result = await Run("""
                - name: s
                  command: [sh, -c, "head -c 8388608 /dev/zero | tr '\\0' x; echo; yes 'junk=1' | head -n 20000 | tr '\\n' ' '; echo; echo objective=4"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal(4, result.Metrics.Final["objective"]);
        Assert.False(result.Metrics.Final.ContainsKey("junk"), "a 140 KB line was read as metrics");
        Assert.Equal(8388608 + 1 + 20000 * 7 + 1 + "objective=4\n".Length, new FileInfo(Path.Combine(Root, "trial-0", "s", "stdout.log")).Length);
    }

    [Fact]
    public async Task A_daemon_a_successful_step_leaves_behind_ends_with_it()
    {
        var pidFile = Path.Combine(Root, "daemon.pid");
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "setsid sh -c 'echo $$ > {{pidFile}}; exec sleep 30' > /dev/null 2>&1 & until [ -s {{pidFile}} ]; do sleep 0.01; done; echo objective=1"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.False(StepProcesses.IsAlive(int.Parse(File.ReadAllText(pidFile).Trim())), "a daemon outlived its successful step (and would keep its GPU)");
    }

    // A new session and a cleared environment shed both the step's process group and its marker; only the
    // tuner's adopting what the step orphaned finds them.
    [Theory]
    [InlineData("env -i setsid -f")]
    [InlineData("env -u TUNER_STEP_DIR setsid -f")]
    public async Task A_daemon_that_sheds_the_group_and_the_marker_ends_with_its_step(string escape)
    {
        var pidFile = Path.Combine(Root, "daemon.pid");
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "{{escape}} /bin/sh -c 'echo $$ > {{pidFile}}; exec sleep 1000' > /dev/null 2>&1; until [ -s {{pidFile}} ]; do sleep 0.01; done; echo objective=1"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        AssertEnded(int.Parse(File.ReadAllText(pidFile).Trim()), "a daemon in a new session with a cleared environment outlived its step");
    }

    [Fact]
    public async Task A_double_forked_daemon_with_an_empty_environment_ends_with_its_step()
    {
        var pidFile = Path.Combine(Root, "daemon.pid");
        var script = Path.Combine(Root, "daemonize.py");
        File.WriteAllText(script, $$"""
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    with open("{{pidFile}}", "w") as f:
                        f.write(str(os.getpid()))
                    os.execve("/bin/sleep", ["sleep", "1000"], {})
                os._exit(0)
            while not os.path.exists("{{pidFile}}") or os.path.getsize("{{pidFile}}") == 0:
                time.sleep(0.01)
            print("objective=1")
            """);
        var result = await Run($$"""
                - name: s
                  command: [/usr/bin/python3, {{script}}]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        AssertEnded(int.Parse(File.ReadAllText(pidFile).Trim()), "a double-forked daemon with an empty environment outlived its step");
    }

    [Fact]
    public async Task Processes_the_tuner_starts_itself_are_still_waited_for_while_it_adopts_orphans()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "echo objective=1"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.True(StepProcesses.AdoptsOrphans, "the tuner does not adopt what its steps orphan");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", "sleep 0.1; exit 7"]))!;
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(7, process.ExitCode);
    }

    /// <summary>The process is gone, not even left a zombie for the tuner to reap.</summary>
    private static void AssertEnded(int pid, string message)
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.False(StepProcesses.IsAlive(pid), message);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} was ended but left a zombie");
    }

    [Fact]
    public async Task A_process_started_while_the_step_is_being_ended_is_ended_too()
    {
        var pidFile = Path.Combine(Root, "late.pid");
        var result = await Run($$"""
                - name: s
                  command: [sh, -c, "trap 'setsid sleep 30 > /dev/null 2>&1 & echo $! > {{pidFile}}; sleep 30' TERM; sleep 60 & wait"]
            """, budget: "maxTrials: 1, trialTimeout: 1s");
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!File.Exists(pidFile) && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(100);
        Assert.False(StepProcesses.IsAlive(int.Parse(File.ReadAllText(pidFile).Trim())), "a process started by a TERM trap escaped");
    }

    [Fact]
    public async Task Carriage_returns_end_lines_as_progress_bars_write_them()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "printf 'step=1 loss=3\\rstep=2 loss=2\\r\\nobjective=1\\r\\n'"]
            """);
        Assert.Equal(TrialOutcome.Succeeded, result.Outcome);
        Assert.Equal([new MetricPoint(1, 3), new MetricPoint(2, 2)], result.Metrics.Intermediate["loss"]);
    }

    [Fact]
    public async Task A_failure_message_quotes_only_the_end_of_a_huge_error_output()
    {
        var result = await Run("""
                - name: s
                  command: [sh, -c, "head -c 20000000 /dev/zero | tr '\\0' e >&2; echo >&2; echo 'the real reason' >&2; exit 4"]
            """);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Equal("step 's' exited with code 4: the real reason", result.Error);
    }

    [Fact]
    public async Task A_pipe_is_known_to_be_written_by_others_while_a_process_holds_it_and_not_once_all_are_gone()
    {
        var start = new System.Diagnostics.ProcessStartInfo("sh", ["-c", "exec sleep 30"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var holder = System.Diagnostics.Process.Start(start)!;
        Assert.True(StepProcesses.WrittenByOthers(holder.StandardOutput.BaseStream, holder.StandardError.BaseStream));
        holder.Kill();
        await holder.WaitForExitAsync();
        // Its output, unread, may still sit in the pipe; no one can write it any more, so reading it ends.
        Assert.False(StepProcesses.WrittenByOthers(holder.StandardOutput.BaseStream, holder.StandardError.BaseStream));
    }

    [Fact]
    public void Recorded_groups_that_name_init_this_process_or_a_dead_leader_are_never_trusted()
    {
        var trial = Path.Combine(Root, "trial-x");
        Directory.CreateDirectory(trial);
        File.WriteAllText(Path.Combine(trial, StepProcesses.RecordPrefix + "a"), "1 0");
        File.WriteAllText(Path.Combine(trial, StepProcesses.RecordPrefix + "b"), "0 0");
        File.WriteAllText(Path.Combine(trial, StepProcesses.RecordPrefix + "c"), "-1 0");
        // This process is alive, but it did not start at tick 0: its id is not the recorded leader's.
        File.WriteAllText(Path.Combine(trial, StepProcesses.RecordPrefix + "d"), $"{Environment.ProcessId} 0");
        Assert.Empty(StepProcesses.LiveRecordedGroups(trial));
    }

    [Fact]
    public async Task A_log_is_cut_at_its_limit_with_a_note_and_the_output_is_still_read_to_its_end()
    {
        var log = Path.Combine(Root, "flood.log");
        var lines = new List<string>();
        // A megabyte without a newline, then metric lines: the log keeps 1000 bytes, the lines are all read.
        var text = new string('é', 500_000) + "\nobjective=1\n" + string.Concat(Enumerable.Repeat("noise\n", 10_000)) + "objective=2\n";
        using var source = new StreamReader(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)));
        await LocalExecutor.CopyLinesAsync(source, log, lines.Add, CancellationToken.None, limit: 1000);
        var kept = File.ReadAllText(log);
        Assert.Equal(new string('é', 500) + "\n" + LocalExecutor.TruncationNote(1000) + "\n", kept);
        Assert.Equal(["objective=1", "objective=2"], lines.Where(l => l.StartsWith("objective", StringComparison.Ordinal)));
        Assert.Equal(10_002, lines.Count);
    }

    [Fact]
    public async Task A_trial_that_writes_past_its_disk_quota_fails_saying_so()
    {
        var result = await Run("""
                - name: hog
                  command: [sh, -c, "head -c 3000000 /dev/zero > ${outputs}/big; sleep 30; echo objective=1"]
            """, budget: "maxTrials: 1, trialDiskQuota: 1M");
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.StartsWith("the trial wrote 2.9 MiB, over its quota of 1 MiB (budget.trialDiskQuota)", result.Error);
        var quick = await Run("""
                - name: hog
                  command: [sh, -c, "head -c 3000000 /dev/zero > ${outputs}/big; echo objective=1"]
            """, budget: "maxTrials: 1, trialDiskQuota: 1M");
        Assert.Equal(TrialOutcome.Failed, quick.Outcome);
        Assert.Contains("over its quota of 1 MiB", quick.Error);
    }

    [Fact]
    public void Disk_usage_counts_files_hidden_ones_too_and_follows_no_link()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Root, "usage")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "a"), new byte[1000]);
        Directory.CreateDirectory(Path.Combine(folder, ".hidden"));
        File.WriteAllBytes(Path.Combine(folder, ".hidden", "b"), new byte[500]);
        var elsewhere = Directory.CreateDirectory(Path.Combine(Root, "elsewhere")).FullName;
        File.WriteAllBytes(Path.Combine(elsewhere, "big"), new byte[100_000]);
        Directory.CreateSymbolicLink(Path.Combine(folder, "link"), elsewhere);
        File.CreateSymbolicLink(Path.Combine(folder, "file-link"), Path.Combine(elsewhere, "big"));
        Assert.Equal(1500, PipelineRunner.DiskUsage(folder));
        Assert.Equal(0, PipelineRunner.DiskUsage(Path.Combine(Root, "missing")));
    }
}
