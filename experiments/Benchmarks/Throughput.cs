using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tuning.Tuner;
using Tuning.Tuner.Grains;

namespace Tuning.Benchmarks;

/// <summary>
/// Trials per second of a study of trivial trials (<c>sh -c "echo objective=1"</c>, random search) on the
/// embedded silo and SQLite store: overall, and for the first and last 100 trials to show the cost stays flat.
/// </summary>
public static class Throughput
{
    public static async Task<int> RunAsync(int trials, int parallel)
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
                  steps: [{name: s, command: [sh, -c, "echo objective=1"]}]
                """;
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

            double Rate(int from, int to) => (to - from) / (completed[to] - completed[from]).TotalSeconds;
            var window = Math.Min(100, completed.Length - 1);
            var result = new
            {
                benchmark = "throughput",
                trials,
                parallel,
                status = snapshot.Status.ToString(),
                succeeded = snapshot.Succeeded,
                wallSeconds = Math.Round(wall, 3),
                trialsPerSecond = Math.Round(trials / wall, 1),
                first100PerSecond = Math.Round(Rate(0, window), 1),
                last100PerSecond = Math.Round(Rate(completed.Length - 1 - window, completed.Length - 1), 1),
            };
            Console.Error.WriteLine($"{trials} trials, {parallel} parallel: {result.trialsPerSecond}/s overall, first 100 {result.first100PerSecond}/s, last 100 {result.last100PerSecond}/s, {wall:F1} s wall");
            Console.WriteLine(JsonSerializer.Serialize(result));
            return snapshot.Status == StudyStatus.Succeeded ? 0 : 1;
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
