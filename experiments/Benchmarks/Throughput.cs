using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tuning.Trials.Execution;
using Tuning.Tuner;
using Tuning.Tuner.Grains;

namespace Tuning.Benchmarks;

/// <summary>
/// Trials per second of a study of trivial trials (<c>sh -c "echo objective=X"</c>, random search) on the
/// embedded silo and SQLite store: overall, and for the first and last 100 trials to show the cost stays flat.
/// In-process it times the study alone; end to end it times <c>tuner run</c> as a user runs it, start-up,
/// progress output and study.json included. Each trial's parameter differs, so with the cache on every step is a
/// miss that computes its key, runs and stores an entry: the cache's cost on the path every new trial takes.
/// With <c>optuna</c>, Optuna 3.1 then runs the same trials as processes (experiments/optuna-parity/optuna_throughput.py,
/// JournalStorage, as many threads as trials at once), timed the same way from its start to its exit, so both
/// rates come from one run on one machine's load. With <c>floor</c>, the same processes are then started as the tuner
/// starts its steps, with nothing else: what is left between that rate and the study's is the tuner's own cost.
/// </summary>
public static class Throughput
{
    public static async Task<int> RunAsync(int trials, int parallel, bool endToEnd, bool cache, bool optuna, bool floor)
    {
        var data = Directory.CreateTempSubdirectory("tuning-throughput-").FullName;
        try
        {
            var yaml = $$"""
                name: throughput
                objective: {metric: objective, goal: minimize}
                algorithm: {name: random, seed: 1}
                budget: {maxTrials: {{trials}}, parallelTrials: {{parallel}}, maxFailedTrials: 0}
                parameters: [{name: x, type: double, min: 0, max: 1}]
                trial:
                  steps: [{name: s, cache: {{(cache ? "true" : "false")}}, command: [sh, -c, "echo objective=${params.x}"]}]
                """;
            var (status, wall, completed) = endToEnd ? await RunTunerAsync(data, yaml) : await RunInProcessAsync(data, yaml);
            double Rate(int from, int to) => (to - from) / (completed[to] - completed[from]).TotalSeconds;
            var window = Math.Min(100, completed.Length - 1);
            var result = new
            {
                benchmark = endToEnd ? "throughput-end-to-end" : "throughput",
                cache,
                trials,
                parallel,
                status,
                succeeded = completed.Length,
                wallSeconds = Math.Round(wall, 3),
                trialsPerSecond = Math.Round(trials / wall, 1),
                first100PerSecond = Math.Round(Rate(0, window), 1),
                last100PerSecond = Math.Round(Rate(completed.Length - 1 - window, completed.Length - 1), 1),
                optunaTrialsPerSecond = optuna ? RunOptuna(data, trials, parallel) : (double?)null,
                spawnFloorPerSecond = floor ? await SpawnFloorAsync(trials, parallel) : (double?)null,
            };
            Console.Error.WriteLine($"{result.benchmark}: {trials} trials, {parallel} parallel, cache {(cache ? "on" : "off")}: {result.trialsPerSecond}/s overall, " +
                $"first 100 {result.first100PerSecond}/s, last 100 {result.last100PerSecond}/s, {wall:F2} s wall" +
                (optuna ? $"; Optuna 3.1 in the same run: {result.optunaTrialsPerSecond}/s" : "") +
                (floor ? $"; the processes alone: {result.spawnFloorPerSecond}/s" : ""));
            Console.WriteLine(JsonSerializer.Serialize(result));
            return status == nameof(StudyStatus.Succeeded) ? 0 : 1;
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<(string Status, double Wall, DateTimeOffset[] Completed)> RunInProcessAsync(string data, string yaml)
    {
        using var host = TuningSilo.BuildEmbeddedHost(data);
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var study = grains.GetGrain<IStudyGrain>(Guid.NewGuid());
        await study.Create(new StudySource(yaml, data), 1);
        var clock = Stopwatch.StartNew();
        await study.Start();
        StudySnapshot snapshot;
        do
        {
            await Task.Delay(20);
            snapshot = await study.GetSnapshot();
        } while (!snapshot.Status.IsTerminal());
        var wall = clock.Elapsed.TotalSeconds;
        var completed = (await study.GetTrials()).Select(t => t.CompletedAt!.Value).Order().ToArray();
        await host.StopAsync();
        return (snapshot.Status.ToString(), wall, completed);
    }

    /// <summary>
    /// The floor under the study: the same trials' processes, <paramref name="parallel"/> at a time, started as the tuner
    /// starts a step (<see cref="StepProcess"/>: <c>posix_spawn</c>, a session of its own, both streams read, its exit
    /// awaited) and nothing else (no study, store, cache or trial folder), in processes per second. Python's floor
    /// (experiments/optuna-parity/spawn_floor.py) is lower: its threads share one interpreter.
    /// </summary>
    private static async Task<double> SpawnFloorAsync(int trials, int parallel)
    {
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string)e.Value!);
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            for (int n; (n = Interlocked.Increment(ref next)) < trials;)
            {
                var echo = string.Create(CultureInfo.InvariantCulture, $"echo objective={(double)n / trials}");
                using var process = StepProcess.Start("/bin/sh", ["-c", echo], environment, Environment.CurrentDirectory);
                await Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
                if (await process.Exited is not 0) throw new InvalidOperationException($"sh -c '{echo}' failed");
            }
        })));
        return Math.Round(trials / clock.Elapsed.TotalSeconds, 1);
    }

    /// <summary>Trials per second of Optuna running the same trials, from its process's start to its exit; null where it failed.</summary>
    private static double? RunOptuna(string data, int trials, int parallel)
    {
        var script = TpeParity.FindScript("optuna_throughput.py") ?? throw new FileNotFoundException("experiments/optuna-parity/optuna_throughput.py not found");
        var start = new ProcessStartInfo(TpeParity.DebianPython) { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = data };
        foreach (var argument in new[] { script, trials.ToString(CultureInfo.InvariantCulture), parallel.ToString(CultureInfo.InvariantCulture), "optuna-journal.log" })
            start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        using var optuna = Process.Start(start)!;
        var output = optuna.StandardOutput.ReadToEnd();
        optuna.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        if (optuna.ExitCode != 0 || JsonDocument.Parse(output).RootElement.GetProperty("succeeded").GetInt32() != trials)
        {
            Console.Error.WriteLine($"optuna_throughput.py failed (exit code {optuna.ExitCode}): {output}");
            return null;
        }
        return Math.Round(trials / wall, 1);
    }

    /// <summary><c>tuner run</c> as a child process, timed from its start to its exit; trial times from its study.json.</summary>
    private static async Task<(string Status, double Wall, DateTimeOffset[] Completed)> RunTunerAsync(string data, string yaml)
    {
        var study = Path.Combine(data, "study.yaml");
        File.WriteAllText(study, yaml);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = data };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "tuner.dll"), "run", study, "--data", "data", "--out", "out" })
            start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        using var tuner = Process.Start(start)!;
        await tuner.StandardOutput.ReadToEndAsync();
        await tuner.WaitForExitAsync();
        var wall = clock.Elapsed.TotalSeconds;
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(data, "out", "study.json")));
        var completed = report.RootElement.GetProperty("trials").EnumerateArray()
            .Select(t => t.GetProperty("completedAt").GetDateTimeOffset()).Order().ToArray();
        return (report.RootElement.GetProperty("status").GetString()!, wall, completed);
    }
}
