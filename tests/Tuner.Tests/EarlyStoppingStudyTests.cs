using System.Globalization;
using Tuning.Tuner.Grains;
using Tuning.Tests.Shared;
using Xunit.Abstractions;

namespace Tuning.Tuner.Tests;

/// <summary>Early stopping through real grains and real processes: every reported step judged, and how soon a stop arrives.</summary>
public sealed class EarlyStoppingStudyTests(ITestOutputHelper output) : InTemporaryFolder("tuning-early-stopping-")
{
    /// <summary>
    /// Trials one at a time over enqueued values of x under the median rule, two completed trials being enough; the
    /// step is a Python program given x and the trial's id.
    /// </summary>
    private static string Study(int[] xs, string program) => $$"""
        name: early-stopping
        objective: {metric: objective, goal: minimize}
        earlyStopping: {name: median, settings: {minTrials: 2} }
        budget: {maxTrials: {{xs.Length}}, parallelTrials: 1}
        enqueue: [{{string.Join(", ", xs.Select(x => "{x: " + x + "}"))}}]
        parameters:
          - {name: x, type: int, min: 0, max: 10}
        trial:
          steps:
            - name: train
              command: [python3, -c, "{{program}}", "${params.x}", "${trial.id}"]
        """;

    [Fact]
    public async Task A_trial_reporting_many_steps_at_once_is_stopped_at_the_step_it_failed()
    {
        // Trials 0 and 1 report x, then -20x: medians 1.5 at epoch 1 and -30 at epoch 2. Trial 2 (x = 5) writes both
        // epochs at once: 5 at epoch 1 is worse than the median, -100 at epoch 2 better. Judged only at the latest step
        // of what reached the study together, it would run on; every step judged, it stops at epoch 1.
        const string program = "import sys, time; x = int(sys.argv[1]); " +
                               "sys.stdout.write('epoch=1 objective=%d\\\\nepoch=2 objective=%d\\\\n' % (x, -20 * x)); sys.stdout.flush(); " +
                               "time.sleep(5 if x == 5 else 0.2)";
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(Study([1, 2, 5], program));
        Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(study)).Status);
        var trials = await study.GetTrials();
        Assert.Equal([TrialStatus.Succeeded, TrialStatus.Succeeded, TrialStatus.EarlyStopped], trials.Select(t => t.Status));
        Assert.StartsWith("stopped early by the median rule at step 1:", trials[2].Error);
    }

    [Fact]
    public async Task A_stop_reaches_the_trial_within_100_ms_of_the_report_that_calls_for_it()
    {
        // Trials 2 to 6 report a value worse than the median at epoch 1, note when, then wait; SIGTERM, which the
        // early stop sends the step, notes how long after the report it came: the whole way from the line printed
        // through the trial's and the study's grains and back to the process.
        var latencies = Path.Combine(Root, "latencies");
        Directory.CreateDirectory(latencies);
        var program = "import signal, sys, time; x = int(sys.argv[1]); " +
                      $"signal.signal(signal.SIGTERM, lambda *_: (open('{latencies}/' + sys.argv[2], 'w').write(str(time.time() - sent)), sys.exit(0))); " +
                      "sent = time.time(); print('epoch=1 objective=%d' % x, flush=True); time.sleep(10 if x == 5 else 0)";
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(Study([1, 2, 5, 5, 5, 5, 5], program));
        Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(study)).Status);
        Assert.Equal(5, (await study.GetTrials()).Count(t => t.Status == TrialStatus.EarlyStopped));
        var measured = Directory.GetFiles(latencies).Select(f => double.Parse(File.ReadAllText(f), CultureInfo.InvariantCulture) * 1000).Order().ToArray();
        output.WriteLine($"report to SIGTERM, ms: {string.Join(", ", measured.Select(m => m.ToString("F1", CultureInfo.InvariantCulture)))}");
        Assert.Equal(5, measured.Length);
        // The median of five: one slow turn of a loaded machine (CI's two cores) is not the pump's doing, and a pump
        // reporting every half second would put three of five past 100 ms four times in five.
        Assert.InRange(measured[2], 0, 100);
    }
}
