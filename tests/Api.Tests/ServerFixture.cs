using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using System.Text;
using Tuning.Api.Service;
using Tuning.Trials.Execution;
using Tuning.Tuner;

namespace Tuning.Api.Tests;

/// <summary>
/// A real <c>tuner serve</c> in this process: Kestrel on a free loopback port, the co-hosted silo, a SQLite store
/// in a temporary folder, and studies' files read from that folder.
/// </summary>
public sealed class Server : IAsyncDisposable
{
    private Server(WebApplication app, string folder, string url)
    {
        App = app;
        Folder = folder;
        Url = url;
    }

    public WebApplication App { get; }

    /// <summary>The workdir (study files go here) and, below it, the data folder.</summary>
    public string Folder { get; }

    public string Url { get; }

    public static async Task<Server> StartAsync(string? folder = null, string? keysFile = null)
    {
        folder ??= Directory.CreateTempSubdirectory("tuning-server-").FullName;
        var url = $"http://127.0.0.1:{TuningSilo.FreePort()}";
        var app = TunerServer.Build(new ServerOptions(url, Path.Combine(folder, "data"), keysFile, folder, AllowRemote: false), GpuSlots.None);
        await app.StartAsync();
        return new Server(app, folder, url);
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url + "/") };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/yaml");

    /// <summary>
    /// The study as the API shows it once it is no longer running. A request that fails on the way (a cluster's
    /// silo or Redis away for a moment) is asked again.
    /// </summary>
    public static async Task<System.Text.Json.JsonElement> WaitForEndAsync(HttpClient client, string id, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            try
            {
                var study = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync($"api/studies/{id}")).RootElement.Clone();
                if (study.GetProperty("status").GetString() is not ("Running" or "Created")) return study;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"study {id} did not end within {within ?? TimeSpan.FromSeconds(90)}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// A keys file of two teams' namespaces, workdirs <c>a</c> and <c>b</c> under <paramref name="folder"/>, and,
    /// with <paramref name="operatorsKey"/>, an operators' namespace: only the keys' hashes are written.
    /// </summary>
    public static string KeysFile(string folder, string teamAKey, string teamBKey, string? operatorsKey = null)
    {
        Directory.CreateDirectory(Path.Combine(folder, "a"));
        Directory.CreateDirectory(Path.Combine(folder, "b"));
        var keys = Path.Combine(folder, "keys.json");
        var operators = operatorsKey is null ? "" : $",\n  \"ops\": {{\"keys\": [\"{Service.Namespaces.Hash(operatorsKey)}\"], \"operator\": true}}";
        File.WriteAllText(keys, $$$"""
            {"namespaces": {
              "team-a": {"keys": ["{{{Service.Namespaces.Hash(teamAKey)}}}"], "workdir": "a"},
              "team-b": {"keys": ["{{{Service.Namespaces.Hash(teamBKey)}}}"], "workdir": "b"}{{{operators}}}
            }}
            """);
        return keys;
    }

    /// <summary>A study whose trials report the objective x (and a learning curve) after <paramref name="sleep"/> seconds.</summary>
    public static string Study(string name = "served", int trials = 6, int parallel = 2, double sleep = 0) => $$"""
        name: {{name}}
        objective: {metric: objective, goal: minimize}
        algorithm: {name: random, seed: 3}
        budget: {maxTrials: {{trials}}, parallelTrials: {{parallel}}}
        parameters:
          - {name: x, type: double, min: 0, max: 1}
          - {name: lr, type: double, min: 1e-4, max: 1, scale: log}
          - {name: opt, type: categorical, values: [sgd, adam]}
        trial:
          steps:
            - name: s
              command: [sh, -c, "sleep {{sleep}}; echo step=1 objective=2; echo step=2 objective=${params.x}"]
        """;

    /// <summary>
    /// A study each of whose trials appends its id to <paramref name="runsLog"/> as it starts, then reports x after
    /// half a second: the log tells how often each trial ran.
    /// </summary>
    public static string LoggedStudy(string name, int trials, int parallel, string runsLog, string algorithm = "random") => $$"""
        name: {{name}}
        objective: {metric: objective, goal: minimize}
        algorithm: {name: {{algorithm}}, seed: 3}
        budget: {maxTrials: {{trials}}, parallelTrials: {{parallel}}}
        parameters:
          - {name: x, type: double, min: 0, max: 1}
        trial:
          steps:
            - name: run
              command: [sh, -c, "echo ${trial.id} >> {{runsLog}}; sleep 0.5; echo objective=${params.x}"]
        """;

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
