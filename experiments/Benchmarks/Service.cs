using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Tuning.Api.Reports;
using Tuning.Api.Service;
using Tuning.Trials.Execution;
using Tuning.Tuner;

namespace Tuning.Benchmarks;

/// <summary>
/// <c>tuner serve</c> (in this process) with a study of N trials, then the p50/p99 milliseconds of each request its
/// dashboard makes: the study, a page of trials, every plot, a trial, a step's log, the events stream's first
/// message; the page's load in Debian's Chromium; and the server's CPU while one page follows the study.
/// The N trials are asked and told over HTTP by client threads (an external study: no process per trial, so 100,000
/// take minutes, not an hour), one left unasked so the study keeps running and its page keeps its events stream open,
/// as a live study's does. Every hundredth trial reports a learning curve. Logs come from a small study with a step.
/// </summary>
public static class Service
{
    private const int Repeats = 30;
    private const string Chromium = "/usr/bin/chromium";

    public static async Task<int> RunAsync(int trials)
    {
        var folder = Directory.CreateTempSubdirectory("tuning-service-").FullName;
        try
        {
            var (app, client) = await StartAsync(folder);
            await using var stopping = app;
            using var _ = client;
            var clock = Stopwatch.StartNew();
            var id = await FillAsync(client, trials);
            var wall = clock.Elapsed.TotalSeconds;
            var logged = await Submit(client, """
                name: logged
                objective: {metric: objective, goal: minimize}
                algorithm: {name: random, seed: 1}
                budget: {maxTrials: 4, parallelTrials: 2}
                parameters: [{name: x, type: double, min: 0, max: 1}]
                trial:
                  steps: [{name: s, command: [sh, -c, "seq 1 1000; echo objective=${params.x}"]}]
                """);
            while (JsonDocument.Parse(await client.GetStringAsync($"api/studies/{logged}")).RootElement.GetProperty("status").GetString() is "Running" or "Created")
                await Task.Delay(100);

            var requests = new List<string> { $"api/studies/{id}", $"api/studies/{id}/trials?sort=number&limit=50", $"api/studies/{id}/trials?sort=-value&limit=50" };
            requests.AddRange(Plots.Kinds.SelectMany(kind => new[] { $"api/studies/{id}/plots/{kind}.png", $"api/studies/{id}/plots/{kind}.svg" }));
            requests.Add($"api/studies/{id}/trials/{trials / 2}");
            requests.Add($"api/studies/{logged}/trials/1/logs?step=s");
            // The first request of each draws its plot (a study's plots are kept until a trial ends); then the repeats.
            var drawn = new Dictionary<string, double>();
            var timings = new Dictionary<string, SummaryOf>();
            foreach (var request in requests)
            {
                var samples = new List<double>();
                for (var i = 0; i <= Repeats; i++)
                {
                    var one = Stopwatch.StartNew();
                    (await client.GetAsync(request)).EnsureSuccessStatusCode();
                    if (i == 0) drawn[Label(request, id, logged)] = Math.Round(one.Elapsed.TotalMilliseconds, 1);
                    else samples.Add(one.Elapsed.TotalMilliseconds);
                }
                timings[Label(request, id, logged)] = Summary(samples);
            }
            var events = new List<double>();
            for (var i = 0; i < Repeats; i++) events.Add(await FirstEventAsync(client, id));
            timings["GET /api/studies/{id}/events (first message)"] = Summary(events);

            var (loads, busy, idle) = await BrowseAsync(client.BaseAddress!, id);
            var result = new
            {
                benchmark = "service",
                trials,
                fillSeconds = Math.Round(wall, 1),
                trialsPerSecond = Math.Round(trials / wall, 1),
                firstRequestMilliseconds = drawn,
                milliseconds = timings,
                pageLoadMilliseconds = Summary(loads),
                serverCpuPercentOnePageOpen = busy,
                serverCpuPercentNoPage = idle,
            };
            Console.Error.WriteLine($"service: {trials} trials asked and told over HTTP in {wall:F1} s ({result.trialsPerSecond}/s)");
            Console.Error.WriteLine($"{"request",-58} {"first",9} {"p50",9} {"p99",9}");
            foreach (var (request, summary) in timings)
                Console.Error.WriteLine($"{request,-58} {(drawn.TryGetValue(request, out var first) ? $"{first:F1}" : ""),9} {summary.p50,9:F1} {summary.p99,9:F1}");
            Console.Error.WriteLine($"{"page in Chromium: trial rows and every plot shown",-58} {"",9} {result.pageLoadMilliseconds.p50,9:F1} {result.pageLoadMilliseconds.p99,9:F1}");
            Console.Error.WriteLine($"server CPU, one page open on the running study: {busy:F1}% of a core (no page: {idle:F1}%)");
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// An external study of <paramref name="trials"/> + 1 trials, all but the last asked and told from 8 client tasks;
    /// every hundredth trial reports two intermediate values first, so the learning-curve plot has curves.
    /// </summary>
    private static async Task<string> FillAsync(HttpClient client, int trials)
    {
        var id = await Submit(client, ExternalStudy("service", "random", trials + 1, "24h"));
        var left = trials;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref left) >= 0)
            {
                var asked = await client.PostAsync($"api/studies/{id}/trials", null);
                asked.EnsureSuccessStatusCode();
                var trial = JsonDocument.Parse(await asked.Content.ReadAsStringAsync()).RootElement;
                var number = trial.GetProperty("number").GetInt32();
                var attempt = trial.GetProperty("attempt").GetString();
                var x = trial.GetProperty("parameters").GetProperty("x").GetDouble();
                if (number % 100 == 0)
                    foreach (var step in new[] { 1, 2 })
                        (await client.PostAsJsonAsync($"api/studies/{id}/trials/{number}/report",
                            new { attempt, step, metrics = new { objective = x + 1.0 / step } })).EnsureSuccessStatusCode();
                (await client.PostAsJsonAsync($"api/studies/{id}/trials/{number}/tell", new { attempt, metrics = new { objective = x } })).EnsureSuccessStatusCode();
                if (number % 10_000 == 0) Console.Error.WriteLine($"service: trial {number} told");
            }
        })));
        return id;
    }

    /// <summary>A study whose trials clients ask for and tell: three parameters (a double, a log-scale double, a categorical).</summary>
    internal static string ExternalStudy(string name, string algorithm, int maxTrials, string heartbeat) => $$"""
        name: {{name}}
        objective: {metric: objective, goal: minimize}
        algorithm: {name: {{algorithm}}, seed: 1}
        budget: {maxTrials: {{maxTrials}}, maxFailedTrials: 0}
        parameters:
          - {name: x, type: double, min: 0, max: 1}
          - {name: lr, type: double, min: 1e-4, max: 1, scale: log}
          - {name: opt, type: categorical, values: [sgd, adam]}
        trial:
          external: {heartbeatTimeout: {{heartbeat}}}
        """;

    internal static async Task<string> Submit(HttpClient client, string yaml)
    {
        var created = await client.PostAsync("api/studies", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        created.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Milliseconds from opening the study's events stream to its first message.</summary>
    private static async Task<double> FirstEventAsync(HttpClient client, string id)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync($"api/studies/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { Length: > 0 }) { }
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// The study's page opened afresh in Debian's Chromium until its trial rows and every plot show, five times; then
    /// the server's CPU (this process: the benchmark's client is idle meanwhile) over 20 s with one page open, and
    /// over 20 s with none.
    /// </summary>
    private static async Task<(List<double> Loads, double Busy, double Idle)> BrowseAsync(Uri server, string id)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        var loads = new List<double>();
        IPage? page = null;
        for (var i = 0; i < 5; i++)
        {
            if (page is not null) await page.CloseAsync();
            page = await browser.NewPageAsync();
            var clock = Stopwatch.StartNew();
            await page.GotoAsync($"{server}#/studies/{id}");
            await page.WaitForSelectorAsync("[data-testid=trial-row]", new() { Timeout = 120_000 });
            await page.WaitForFunctionAsync($"document.querySelectorAll('.plots img[data-loaded=true], .plots img[data-failed=true]').length === {Plots.Kinds.Length}",
                null, new() { Timeout = 120_000, PollingInterval = 10 });
            loads.Add(clock.Elapsed.TotalMilliseconds);
        }
        var busy = await CpuPercentAsync(TimeSpan.FromSeconds(20));
        await page!.CloseAsync();
        var idle = await CpuPercentAsync(TimeSpan.FromSeconds(20));
        return (loads, busy, idle);
    }

    private static async Task<double> CpuPercentAsync(TimeSpan span)
    {
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        await Task.Delay(span);
        process.Refresh();
        return Math.Round(100 * (process.TotalProcessorTime - before).TotalSeconds / span.TotalSeconds, 1);
    }

    private static string Label(string request, string id, string logged) => "GET /" + request.Replace(id, "{id}").Replace(logged, "{id}");

    private static SummaryOf Summary(List<double> samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double p) => Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)], 1);
        return new SummaryOf(At(0.5), At(0.99));
    }

    /// <summary>A request's median and 99th percentile, milliseconds.</summary>
    private sealed record SummaryOf(double p50, double p99);

    /// <summary>A <c>tuner serve</c> in this process on a free loopback port, its store and workdir in <paramref name="folder"/>, and a client of it.</summary>
    internal static async Task<(Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Client)> StartAsync(string folder)
    {
        var url = $"http://127.0.0.1:{TuningSilo.FreePort()}";
        var app = TunerServer.Build(new ServerOptions(url, Path.Combine(folder, "data"), null, folder, AllowRemote: false), GpuSlots.None);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromMinutes(5) });
    }
}
