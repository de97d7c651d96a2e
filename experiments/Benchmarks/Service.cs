using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tuning.Api.Reports;
using Tuning.Api.Service;
using Tuning.Trials.Execution;
using Tuning.Tuner;

namespace Tuning.Benchmarks;

/// <summary>
/// <c>tuner serve</c> with a study of N trivial trials submitted over HTTP: the study's wall time, then the
/// milliseconds of each request the dashboard makes to open its page (page, script, study, a page of trials,
/// every plot) on the finished study, the first time (plots drawn) and again (plots cached).
/// </summary>
public static class Service
{
    public static async Task<int> RunAsync(int trials)
    {
        var folder = Directory.CreateTempSubdirectory("tuning-service-").FullName;
        try
        {
            var (app, client) = await StartAsync(folder);
            await using var stopping = app;
            using var _ = client;
            var yaml = $$"""
                name: service
                objective: {metric: objective, goal: minimize}
                algorithm: {name: random, seed: 1}
                budget: {maxTrials: {{trials}}, parallelTrials: 8, maxFailedTrials: 0}
                parameters:
                  - {name: x, type: double, min: 0, max: 1}
                  - {name: lr, type: double, min: 1e-4, max: 1, scale: log}
                  - {name: opt, type: categorical, values: [sgd, adam]}
                trial:
                  steps: [{name: s, command: [sh, -c, "echo step=1 objective=1; echo step=2 objective=${params.x}"]}]
                """;
            var clock = Stopwatch.StartNew();
            var created = await client.PostAsync("api/studies", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
            var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
            string status;
            do
            {
                await Task.Delay(100);
                status = JsonDocument.Parse(await client.GetStringAsync($"api/studies/{id}")).RootElement.GetProperty("status").GetString()!;
            } while (status is "Running" or "Created");
            var wall = clock.Elapsed.TotalSeconds;

            var requests = new[] { "", "dashboard/dashboard.js", $"api/studies/{id}", $"api/studies/{id}/trials?sort=number&limit=50" }
                .Concat(Plots.Kinds.Select(kind => $"api/studies/{id}/plots/{kind}.svg")).ToArray();
            // Each request once, in turn: plots are drawn now (the first of each kind also pays for JIT).
            var timings = new Dictionary<string, double>();
            foreach (var request in requests)
            {
                var one = Stopwatch.StartNew();
                (await client.GetAsync(request)).EnsureSuccessStatusCode();
                timings[request.Length == 0 ? "/" : request.Replace(id!, "{id}")] = Math.Round(one.Elapsed.TotalMilliseconds, 1);
            }
            // Then the page as a browser opens it again, requests in parallel: plots come from the server's cache.
            var page = Stopwatch.StartNew();
            await Task.WhenAll(requests.Select(r => client.GetAsync(r)));
            var result = new
            {
                benchmark = "service",
                trials,
                status,
                studyWallSeconds = Math.Round(wall, 2),
                trialsPerSecond = Math.Round(trials / wall, 1),
                firstRequestMilliseconds = timings,
                pageReloadMilliseconds = Math.Round(page.Elapsed.TotalMilliseconds, 1),
            };
            foreach (var (request, ms) in timings) Console.Error.WriteLine($"{ms,9:F1} ms  GET /{request.TrimStart('/')}");
            Console.Error.WriteLine($"service: {trials} trials over HTTP in {wall:F1} s ({result.trialsPerSecond}/s); first page load {timings.Values.Sum():F0} ms " +
                $"(requests in turn, plots drawn), again {result.pageReloadMilliseconds} ms (in parallel, plots cached)");
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A <c>tuner serve</c> in this process on a free loopback port, its store and workdir in <paramref name="folder"/>, and a client of it.</summary>
    internal static async Task<(Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Client)> StartAsync(string folder)
    {
        var url = $"http://127.0.0.1:{TuningSilo.FreePort()}";
        var app = TunerServer.Build(new ServerOptions(url, Path.Combine(folder, "data"), null, folder, AllowRemote: false), GpuSlots.None);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromMinutes(5) });
    }
}
