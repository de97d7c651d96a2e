using Tuning.Algorithms.Space;
using Tuning.Trials.Caching;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests;

/// <summary>Pipelines as graphs of steps, and the step cache, against real child processes and a real cache folder.</summary>
public sealed class PipelineTests : InTemporaryFolder
{
    public PipelineTests() : base("tuning-pipeline-")
    {
        Cache = new StepCache(Path.Combine(Root, "cache"), Replaced.Enqueue);
        Study = Directory.CreateDirectory(Path.Combine(Root, "study")).FullName;
    }

    /// <summary>The study folder: beside the counters, not holding them, since a file a command names is part of its key.</summary>
    private string Study { get; }

    private StepCache Cache { get; }

    /// <summary>What the cache said of each entry it replaced because its outputs had changed.</summary>
    private System.Collections.Concurrent.ConcurrentQueue<string> Replaced { get; } = new();

    private LocalStepRunGate Gate { get; } = new();

    /// <summary>A file outside every trial folder that steps append to, to count how often they really ran.</summary>
    private string Counter(string name) => Path.Combine(Root, name + ".count");

    private int Runs(string name) => File.Exists(Counter(name)) ? File.ReadAllLines(Counter(name)).Length : 0;

    private StudySpec Spec(string steps, string timeout = "") => StudyFile.Parse($"""
        name: pipeline-test
        objective: {"{"}metric: objective, goal: minimize{"}"}
        budget: {"{"}maxTrials: 10{timeout}{"}"}
        parameters:
          - {"{"}name: x, type: double, min: 0, max: 10{"}"}
        trial:
          steps:
        {steps}
        """, Study);

    private Task<TrialResult> Run(StudySpec spec, int number, double x = 3, CancellationToken cancellation = default, TrialWatch? watch = null) =>
        new PipelineRunner(spec, new LocalExecutor(), Cache, Gate).RunAsync(
            new TrialRun($"t-{number}", number, new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(x) }, Path.Combine(Root, "runs", number.ToString())),
            cancellation, watch);

    [Fact]
    public async Task Independent_steps_run_at_the_same_time()
    {
        // Each of a and b waits until the other has started: run one after the other, both would time out.
        var wait = $"for i in $(seq 100); do [ -e {Root}/$1 ] && exit 0; sleep 0.05; done; exit 1";
        var result = await Run(Spec($"""
                - {"{"}name: a, command: [sh, -c, "touch {Root}/a-started; {wait}", a, b-started]{"}"}
                - {"{"}name: b, command: [sh, -c, "touch {Root}/b-started; {wait}", b, a-started]{"}"}
                - {"{"}name: last, dependsOn: [a, b], command: [sh, -c, "echo objective=1"]{"}"}
            """), 0);
        Assert.True(result.Outcome == TrialOutcome.Succeeded, result.Error);
        Assert.Equal(["a", "b", "last"], result.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task A_failed_step_fails_the_trial_by_name_ends_the_steps_beside_it_and_starts_none_after_it()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Run(Spec($"""
                - {"{"}name: slow, command: [sh, -c, "sleep 30"], cache: false{"}"}
                - {"{"}name: broken, command: [sh, -c, "sleep 0.3; echo cannot read data >&2; exit 3"], cache: false{"}"}
                - {"{"}name: after, dependsOn: [broken], command: [sh, -c, "echo ran >> {Counter("after")}; echo objective=1"]{"}"}
            """), 0);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("step 'broken' exited with code 3: cannot read data", result.Error);
        Assert.Equal(0, Runs("after"));
        Assert.DoesNotContain(result.Steps, s => s.Name == "after");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the sibling was not ended: {clock.Elapsed}");
    }

    private string PrepareAndTrain(string prepareExtra = "", string trainCache = "") => $"""
                - name: prepare
                  command: [sh, -c, "echo ran >> {Counter("prepare")}; {prepareExtra} echo 42 > ${"{"}outputs{"}"}/data; echo rows=1000"]
                - name: train
                  dependsOn: [prepare]{trainCache}
                  command: [sh, -c, "echo ran >> {Counter("train")}; echo objective=$(( $(cat ${"{"}steps.prepare.outputs{"}"}/data) + ${"{"}params.x{"}"} ))"]
            """;

    [Fact]
    public async Task A_step_that_uses_no_parameter_runs_once_and_a_downstream_step_with_the_same_inputs_hits_the_cache()
    {
        var spec = Spec(PrepareAndTrain());
        var first = await Run(spec, 0, x: 1);
        var second = await Run(spec, 1, x: 2);
        var third = await Run(spec, 2, x: 1);
        Assert.All(new[] { first, second, third }, r => Assert.True(r.Outcome == TrialOutcome.Succeeded, r.Error));
        Assert.Equal([43.0, 44.0, 43.0], new[] { first, second, third }.Select(r => r.Metrics.Final["objective"]));
        Assert.Equal(1, Runs("prepare"));
        Assert.Equal(2, Runs("train"));
        // A hit shows as cached, 0 seconds, and brings back what the step reported.
        Assert.Equal([false, false], first.Steps.Select(s => s.Cached));
        Assert.Equal([true, false], second.Steps.Select(s => s.Cached));
        Assert.Equal([true, true], third.Steps.Select(s => s.Cached));
        Assert.All(third.Steps, s => Assert.Equal(0, s.Seconds));
        Assert.Equal(1000, third.Metrics.Final["rows"]);
        // The downstream step read the cached folder, which lives per key under the cache, not in a trial.
        Assert.Equal(3, Cache.List().Count);
        Assert.All(Cache.List(), e => Assert.StartsWith(Cache.Directory, e.OutputDirectory));
        Assert.Equal("42", File.ReadAllText(Path.Combine(Cache.List().Single(e => e.Step == "prepare").OutputDirectory, "data")).Trim());
    }

    [Fact]
    public async Task Parallel_trials_that_miss_the_same_key_wait_for_one_run_of_it()
    {
        var spec = Spec(PrepareAndTrain(prepareExtra: "sleep 1;"));
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(n => Run(spec, n, x: n)));
        Assert.All(results, r => Assert.True(r.Outcome == TrialOutcome.Succeeded, r.Error));
        Assert.Equal(1, Runs("prepare"));
        Assert.Equal(1, results.Count(r => !r.Steps[0].Cached));
        Assert.Equal(4, Runs("train"));
    }

    [Fact]
    public async Task When_the_one_run_fails_every_trial_waiting_for_it_fails_with_its_error_and_nothing_is_cached()
    {
        var spec = Spec($"""
                - name: prepare
                  command: [sh, -c, "echo ran >> {Counter("prepare")}; sleep 1; echo disk full >&2; exit 4"]
                - {"{"}name: train, dependsOn: [prepare], command: [sh, -c, "echo objective=1"]{"}"}
            """);
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(n => Run(spec, n, x: n)));
        Assert.Equal(1, Runs("prepare"));
        Assert.All(results, r => Assert.Equal(TrialOutcome.Failed, r.Outcome));
        Assert.All(results, r => Assert.Contains("exited with code 4: disk full", r.Error));
        Assert.Equal(2, results.Count(r => r.Error!.Contains("failed in the trial that computed it")));
        Assert.Empty(Cache.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Cache.Directory, ".building")));
    }

    [Fact]
    public async Task Editing_a_script_the_step_names_invalidates_its_entry()
    {
        var script = Path.Combine(Study, "prepare.sh");
        await File.WriteAllTextAsync(script, $"echo ran >> {Counter("prepare")}\necho version=1\n");
        var spec = Spec("""
                - {name: prepare, command: [sh, prepare.sh]}
                - {name: train, dependsOn: [prepare], command: [sh, -c, "echo objective=1"]}
            """);
        await Run(spec, 0);
        await Run(spec, 1);
        Assert.Equal(1, Runs("prepare"));
        await File.WriteAllTextAsync(script, $"echo ran >> {Counter("prepare")}\necho version=2\n");
        var edited = await Run(spec, 2);
        Assert.Equal(2, Runs("prepare"));
        Assert.Equal(2, edited.Metrics.Final["version"]);
        Assert.Equal([false, false], edited.Steps.Select(s => s.Cached));
    }

    [Fact]
    public async Task A_step_that_appends_to_a_cached_upstream_output_changes_no_later_trial_the_entry_is_built_again()
    {
        // The downstream step makes the entry writable first, as a careless script might (a step run as root needs not).
        var spec = Spec($$"""
                - {name: prepare, command: [sh, -c, "echo ran >> {{Counter("prepare")}}; echo row > ${outputs}/data"]}
                - name: train
                  dependsOn: [prepare]
                  command: [sh, -c, "chmod u+w ${steps.prepare.outputs} ${steps.prepare.outputs}/data; echo row >> ${steps.prepare.outputs}/data; echo objective=$(wc -l < ${steps.prepare.outputs}/data) x=${params.x}"]
            """);
        var results = new List<TrialResult>();
        for (var n = 0; n < 3; n++) results.Add(await Run(spec, n, x: n));
        Assert.All(results, r => Assert.True(r.Outcome == TrialOutcome.Succeeded, r.Error));
        Assert.Equal([2.0, 2.0, 2.0], results.Select(r => r.Metrics.Final["objective"]));
        Assert.Equal(3, Runs("prepare"));
        Assert.All(results, r => Assert.False(r.Steps[0].Cached));
        Assert.Equal(2, Replaced.Count);
        Assert.All(Replaced, message => Assert.EndsWith("of step 'prepare' (study pipeline-test) was built again: outputs/data holds 8 bytes, not the 4 stored", message));
    }

    [Fact]
    public async Task A_trial_whose_objective_line_was_not_understood_says_which_line_and_why()
    {
        var result = await Run(Spec("""
                - {name: train, command: [sh, -c, "echo starting; echo objective=1,5; echo done", "${params.x}"]}
            """), 0);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Equal("the trial reported no 'objective' metric; step 'train' stdout line 2 'objective=1,5' was not understood: '1,5' is not a number (use a dot for decimals)", result.Error);
        var silent = await Run(Spec("""
                - {name: train, command: [sh, -c, "echo loss=1,5", "${params.x}"]}
            """), 1);
        Assert.Equal("the trial reported no 'objective' metric (print a line like 'objective=0.5')", silent.Error);
    }

    [Fact]
    public async Task A_trial_must_report_every_objective_and_constrained_metric()
    {
        var spec = StudyFile.Parse("""
            name: several
            objectives: [{metric: accuracy, goal: maximize}, {metric: latency, goal: minimize}]
            constraints: [{metric: memory, max: 512}]
            budget: {maxTrials: 10}
            parameters: [{name: x, type: double, min: 0, max: 10}]
            trial: {steps: [{name: train, command: [sh, -c, "echo accuracy=0.9 latency=$0", "${params.x}"]}]}
            """, Study);
        var result = await Run(spec, 0);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Equal("the trial reported no 'memory' metric (print a line like 'memory=0.5')", result.Error);
        var reported = await Run(spec with { Constraints = [] }, 1);
        Assert.True(reported.Outcome == TrialOutcome.Succeeded, reported.Error);
    }

    [Fact]
    public async Task A_step_with_cache_false_runs_every_time_and_so_do_the_steps_after_it()
    {
        var spec = Spec(PrepareAndTrain().Replace("  - name: prepare\n", "  - name: prepare\n      cache: false\n"));
        await Run(spec, 0);
        await Run(spec, 1);
        Assert.Equal(2, Runs("prepare"));
        Assert.Equal(2, Runs("train"));
        Assert.Empty(Cache.List());
    }

    [Fact]
    public async Task A_stopped_or_timed_out_step_is_never_cached_and_leaves_no_partial_entry()
    {
        var spec = Spec($"""
                - {"{"}name: prepare, command: [sh, -c, "echo partial > ${"{"}outputs{"}"}/data; sleep 30; echo objective=1"]{"}"}
            """, timeout: ", trialTimeout: 500ms");
        var timedOut = await Run(spec, 0);
        Assert.Equal(TrialOutcome.Failed, timedOut.Outcome);
        Assert.Contains("timed out", timedOut.Error);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var stopped = await Run(Spec($"""
                - {"{"}name: prepare, command: [sh, -c, "sleep 30; echo objective=1"]{"}"}
            """), 1, cancellation: stop.Token);
        Assert.Equal(TrialOutcome.Cancelled, stopped.Outcome);
        Assert.Empty(Cache.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Cache.Directory, ".building")));
    }

    [Fact]
    public async Task Metric_lines_and_metrics_file_lines_are_heard_while_the_step_runs_and_an_early_stop_ends_it()
    {
        using var earlyStop = new CancellationTokenSource();
        var heard = new List<(string Name, long Step, double Value)>();
        void Reported(MetricReport line)
        {
            lock (heard)
                foreach (var (name, points) in line.Intermediate)
                    heard.AddRange(points.Select(p => (name, p.Step, p.Value)));
            // The study would say stop once the curve has two points from the file.
            lock (heard)
                if (heard.Count(h => h.Name == "accuracy") >= 2) earlyStop.Cancel();
        }
        var result = await Run(Spec("""
                - name: train
                  cache: false
                  command: [sh, -c, "for e in 1 2 3 4 5 6 7 8 9 10; do echo epoch=$e loss=0.$e; echo \"{\\\"epoch\\\": $e, \\\"accuracy\\\": 0.$e}\" >> \"$TUNER_METRICS_FILE\"; sleep 0.4; done; echo objective=1"]
            """), 0, watch: new TrialWatch(Reported, earlyStop.Token));
        Assert.Equal(TrialOutcome.EarlyStopped, result.Outcome);
        Assert.Contains(heard, h => h is ("loss", 1, 0.1));
        Assert.Contains(heard, h => h is ("accuracy", 2, 0.2));
        // Stopped well before its tenth epoch, its partial curve kept.
        Assert.InRange(result.Metrics.Intermediate["loss"].Count, 2, 6);
        Assert.False(result.Metrics.Final.ContainsKey("objective"));
    }

    [Fact]
    public async Task What_ended_a_trial_first_is_its_outcome_an_early_stop_after_a_failure_does_not_hide_it()
    {
        using var earlyStop = new CancellationTokenSource();
        // 'broken' fails at once; 'stubborn' ignores TERM, so ending it takes the 2 s grace, and the early stop comes
        // in the middle of that: half a second after 'broken' said it is about to fail, however slow the machine.
        var failing = Path.Combine(Root, "failing");
        var stopLater = Task.Run(async () =>
        {
            while (!File.Exists(failing)) await Task.Delay(20);
            await Task.Delay(500);
            await earlyStop.CancelAsync();
        });
        var result = await Run(Spec($$"""
                - {name: stubborn, cache: false, command: [sh, -c, "trap '' TERM; sleep 10"]}
                - {name: broken, cache: false, command: [sh, -c, "touch {{failing}}; exit 1"]}
            """), 0, watch: new TrialWatch(_ => { }, earlyStop.Token));
        await stopLater;
        Assert.True(earlyStop.IsCancellationRequested);
        Assert.Equal(TrialOutcome.Failed, result.Outcome);
        Assert.Contains("step 'broken' exited with code 1", result.Error);
    }

    [Fact]
    public void A_step_waiting_for_the_machine_beside_a_step_at_work_does_not_stop_the_clock()
    {
        using (var deadline = new TrialDeadline(TimeSpan.FromMilliseconds(300), CancellationToken.None))
        using (deadline.Work())
        using (deadline.Pause())
            Assert.True(deadline.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(5)) && deadline.RanOut);
        using (var waiting = new TrialDeadline(TimeSpan.FromMilliseconds(300), CancellationToken.None))
        using (waiting.Pause())
            Assert.False(waiting.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(700)));
        using var stopped = new CancellationTokenSource();
        using var stop = new TrialDeadline(TimeSpan.FromSeconds(30), stopped.Token);
        stopped.Cancel();
        Assert.True(stop.Token.IsCancellationRequested);
        Assert.False(stop.RanOut);
    }

    [Fact]
    public async Task The_value_of_an_option_like_in_equals_file_names_the_study_file()
    {
        File.WriteAllText(Path.Combine(Study, "input.txt"), "7");
        var result = await Run(Spec("""
                - {name: s, cache: false, command: [sh, -c, "echo objective=$(cat $(echo $1 | cut -d= -f2))", sh, --in=input.txt]}
            """), 0);
        Assert.True(result.Outcome == TrialOutcome.Succeeded, result.Error);
        Assert.Equal(7, result.Metrics.Final["objective"]);
    }
}
