using System.Diagnostics;
using System.Text.Json;
using Tuning.Tests.Shared;
using Tuning.Trials.Execution;
using Xunit.Abstractions;

namespace Tuning.Api.Tests;

/// <summary>
/// The crash harness of the embedded store: <c>tuner run</c> killed with SIGKILL at 20 random moments of one study,
/// started again after each, then left to finish. It prints its figures (and a JSON line) to the test's output:
/// <c>dotnet test tests/Api.Tests --filter CrashHarness --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class CrashHarnessTests(ITestOutputHelper output) : InTemporaryFolder("tuning-crash-")
{
    private const int Kills = 20;
    private const int Trials = 120;

    private string RunsLog => Path.Combine(Root, "runs.log");

    private int RunsLogged() => File.Exists(RunsLog) ? File.ReadAllLines(RunsLog).Length : 0;

    [Fact]
    public async Task A_study_killed_at_20_random_moments_ends_with_every_trial_once_and_nothing_left_running()
    {
        File.WriteAllText(Path.Combine(Root, "study.yaml"), Server.LoggedStudy("crash-harness", Trials, parallel: 4, RunsLog, algorithm: "tpe"));
        var data = Path.Combine(Root, "data");
        var random = new Random(2026);
        var clock = Stopwatch.StartNew();
        var killed = 0;
        var leftoversAfterKills = new List<int>();
        for (var attempt = 0; killed < Kills; attempt++)
        {
            Assert.True(attempt < Kills * 3, $"the study kept finishing before it could be killed {Kills} times");
            var runsBefore = RunsLogged();
            using var tuner = Tuner.Start(Root, "run", "study.yaml", "--data", data, "--out", Path.Combine(Root, "out"));
            _ = tuner.StandardOutput.ReadToEndAsync();
            _ = tuner.StandardError.ReadToEndAsync();
            // Each kill lands while this start runs trials, at a random moment of them: waiting a fixed time instead
            // let most kills of a loaded machine land during start-up, before any trial ran.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (RunsLogged() == runsBefore && !tuner.HasExited && DateTime.UtcNow < deadline) await Task.Delay(10);
            await Task.Delay(random.Next(0, 1500));
            if (tuner.HasExited) break;
            // The tuner alone is killed: its steps are orphaned, as after a crash, for the next start to end.
            tuner.Kill(entireProcessTree: false);
            await tuner.WaitForExitAsync();
            killed++;
            leftoversAfterKills.Add(StepProcesses.Find(Path.Combine(data, "runs"), []).Count);
        }

        var (exit, stdout, stderr) = await Tuner.RunAsync(Root, "run", "study.yaml", "--data", data, "--out", Path.Combine(Root, "out"));
        Assert.True(exit == 0, stdout + stderr);
        var wall = clock.Elapsed;

        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json"))).RootElement;
        var trials = report.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal("Succeeded", report.GetProperty("status").GetString());
        Assert.Equal(Enumerable.Range(0, Trials), trials.Select(t => t.GetProperty("number").GetInt32()).Order());
        Assert.All(trials, t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));
        var runs = File.ReadAllLines(RunsLog);
        Assert.Equal(trials.Select(t => t.GetProperty("id").GetString()).Order(), runs.Distinct().Order());
        // A run interrupted by a kill runs again; none runs more often than the kills could cause.
        Assert.True(runs.Length <= Trials + killed * 4, $"{runs.Length} runs");
        var leftovers = StepProcesses.Find(Path.Combine(data, "runs"), []);
        Assert.Empty(leftovers);

        output.WriteLine($"kills: {killed}; trials: {Trials}, all succeeded once in study.json; step runs: {runs.Length} " +
            $"({runs.Length - Trials} reruns of interrupted trials); orphaned step processes right after the kills: " +
            $"{string.Join(",", leftoversAfterKills)} (all ended by the next start); left at the end: {leftovers.Count}; wall time {wall.TotalSeconds:0.0} s");
        output.WriteLine(JsonSerializer.Serialize(new
        {
            kills = killed,
            trials = Trials,
            stepRuns = runs.Length,
            reruns = runs.Length - Trials,
            orphansAfterKills = leftoversAfterKills.Sum(),
            leftAtEnd = leftovers.Count,
            wallSeconds = Math.Round(wall.TotalSeconds, 1),
        }));
    }
}
