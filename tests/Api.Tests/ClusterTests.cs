using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Tuning.Tests.Shared;

namespace Tuning.Api.Tests;

/// <summary>
/// Three <c>tuner serve --cluster</c> processes over a real Redis (Debian's redis-server, started here on a free
/// port with append-only fsync), sharing one data folder: a silo killed outright mid-study, and Redis itself killed
/// for a few seconds.
/// </summary>
public sealed class ClusterTests() : InTemporaryFolder("tuning-cluster-")
{
    /// <summary>Fast failure detection: a killed silo is declared dead in seconds, and lost trials looked for every second.</summary>
    private static readonly (string, string)[] FastFailover =
        [(Tuning.Tuner.Hosting.TunerOptions.WatchPeriodVariable, "1"), (Tuning.Tuner.TuningSilo.ProbeTimeoutVariable, "1")];

    private sealed class Silo(Process process, string url, int siloPort) : IAsyncDisposable
    {
        public Process Process { get; } = process;

        public string Url { get; } = url;

        /// <summary>How trial records name this silo (its address and silo port).</summary>
        public string Marker { get; } = $"127.0.0.1:{siloPort}:";

        public HttpClient Client() => new() { BaseAddress = new Uri(Url) };

        public ValueTask DisposeAsync()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private Process StartRedis(int port) => Process.Start(new ProcessStartInfo("redis-server",
        ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", Directory.CreateDirectory(Path.Combine(Root, "redis")).FullName])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    }) ?? throw new InvalidOperationException("redis-server is needed (apt install redis-server)");

    private async Task<Silo> StartSiloAsync(int redis)
    {
        var url = $"http://127.0.0.1:{Tuning.Tuner.TuningSilo.FreePort()}";
        var siloPort = Tuning.Tuner.TuningSilo.FreePort();
        var process = Tuner.Start(Root, FastFailover, "serve", "--urls", url, "--data", Path.Combine(Root, "data"),
            "--cluster", $"redis://127.0.0.1:{redis}", "--silo-port", siloPort.ToString(), "--gateway-port", Tuning.Tuner.TuningSilo.FreePort().ToString());
        var silo = new Silo(process, url, siloPort);
        var output = Tuner.Collect(process);
        using var client = silo.Client();
        for (var waited = 0; ; waited += 200)
        {
            try
            {
                if ((await client.GetAsync("api/studies")).IsSuccessStatusCode) return silo;
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited || waited > 60_000) throw new InvalidOperationException($"silo did not start:\n{output}");
            await Task.Delay(200);
        }
    }

    private string StudyYaml(string name, int trials, int parallel) => Server.LoggedStudy(name, trials, parallel, Path.Combine(Root, "runs.log"));

    private static async Task<string> SubmitAsync(HttpClient client, string yaml)
    {
        var created = await client.PostAsync("api/studies", Server.Yaml(yaml));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement[]> TrialsAsync(HttpClient client, string id) =>
        JsonDocument.Parse(await client.GetStringAsync($"api/studies/{id}/trials?limit=1000")).RootElement.GetProperty("trials").EnumerateArray().ToArray();

    [Fact]
    public async Task A_cluster_address_that_is_malformed_or_unreachable_is_one_line_saying_so()
    {
        var malformed = await Tuner.RunAsync(Root, "serve", "--cluster", "http://127.0.0.1:6379", "--data", Path.Combine(Root, "data"));
        Assert.Equal(2, malformed.Exit);
        Assert.Equal("tuner: --cluster: 'http://127.0.0.1:6379' is not a Redis address; write it like redis://127.0.0.1:6379", malformed.Err.Trim());
        var port = Tuning.Tuner.TuningSilo.FreePort();
        var unreachable = await Tuner.RunAsync(Root, "serve", "--cluster", $"redis://127.0.0.1:{port}", "--data", Path.Combine(Root, "data"));
        Assert.Equal(1, unreachable.Exit);
        Assert.StartsWith($"tuner: --cluster: cannot reach Redis at 127.0.0.1:{port} (", unreachable.Err.Trim());
        Assert.Single(unreachable.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_silo_killed_mid_study_loses_no_trial_and_counts_none_twice_and_Redis_going_away_loses_nothing()
    {
        var redisPort = Tuning.Tuner.TuningSilo.FreePort();
        using var redis = StartRedis(redisPort);
        try
        {
            await using var a = await StartSiloAsync(redisPort);
            await using var b = await StartSiloAsync(redisPort);
            await using var c = await StartSiloAsync(redisPort);
            using var client = a.Client();
            var id = await SubmitAsync(client, StudyYaml("failover", trials: 200, parallel: 6));

            // Wait until trials run on b, then kill it outright.
            string[] onB = [];
            for (var waited = 0; onB.Length == 0; waited += 100)
            {
                Assert.True(waited < 60_000, "no trial ran on the second silo");
                await Task.Delay(100);
                onB = (await TrialsAsync(client, id))
                    .Where(t => t.GetProperty("status").GetString() == "Running" && t.GetProperty("silo").GetString()?.Contains(b.Marker) == true)
                    .Select(t => t.GetProperty("id").GetString()!).ToArray();
            }
            b.Process.Kill(entireProcessTree: false);
            await b.Process.WaitForExitAsync();

            var study = await Server.WaitForEndAsync(client, id, TimeSpan.FromMinutes(4));
            Assert.Equal("Succeeded", study.GetProperty("status").GetString());
            var trials = await TrialsAsync(client, id);
            Assert.Equal(200, trials.Length);
            Assert.Equal(Enumerable.Range(0, 200), trials.Select(t => t.GetProperty("number").GetInt32()).Order());
            Assert.All(trials, t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));
            Assert.Equal(200, study.GetProperty("succeeded").GetInt32());
            // The trials that were running on the killed silo when it died ran again elsewhere, and say why (one
            // seen running there may have finished just before the kill).
            var lost = trials.Where(t => t.GetProperty("retries").ValueKind == JsonValueKind.Array).ToArray();
            Assert.NotEmpty(lost);
            Assert.All(lost, trial =>
            {
                Assert.DoesNotContain(b.Marker, trial.GetProperty("silo").GetString());
                Assert.Contains($"its silo S{b.Marker}", trial.GetProperty("retries")[0].GetString());
                Assert.EndsWith("was lost", trial.GetProperty("retries")[0].GetString());
            });
            // Every trial ran, and only those that were lost ran twice.
            var runs = File.ReadAllLines(Path.Combine(Root, "runs.log"));
            Assert.Equal(trials.Select(t => t.GetProperty("id").GetString()).Order(), runs.Distinct().Order());
            Assert.True(runs.Length <= 200 + lost.Length, $"{runs.Length} runs for 200 trials and {lost.Length} lost");

            // Redis killed for a few seconds mid-study: the silos wait, then go on, and nothing is lost (append-only, fsync always).
            File.Delete(Path.Combine(Root, "runs.log"));
            var second = await SubmitAsync(client, StudyYaml("outage", trials: 40, parallel: 4));
            await Task.Delay(2000);
            redis.Kill();
            await redis.WaitForExitAsync();
            // Longer than the Redis client's 5 s timeout: writes fail meanwhile and are made again.
            await Task.Delay(7000);
            using var restarted = StartRedis(redisPort);
            try
            {
                var after = await Server.WaitForEndAsync(client, second, TimeSpan.FromMinutes(3));
                Assert.Equal("Succeeded", after.GetProperty("status").GetString());
                var secondTrials = await TrialsAsync(client, second);
                Assert.Equal(40, secondTrials.Count(t => t.GetProperty("status").GetString() == "Succeeded"));
                // Waiting for Redis is no lost attempt: each trial ran once.
                Assert.All(secondTrials, t => Assert.Equal(JsonValueKind.Null, t.GetProperty("retries").ValueKind));
                var secondRuns = File.ReadAllLines(Path.Combine(Root, "runs.log"));
                Assert.Equal(secondTrials.Select(t => t.GetProperty("id").GetString()).Order(), secondRuns.Order());
                using var other = c.Client();
                Assert.Equal(200, JsonDocument.Parse(await other.GetStringAsync($"api/studies/{id}")).RootElement.GetProperty("succeeded").GetInt32());
            }
            finally
            {
                restarted.Kill();
            }
        }
        finally
        {
            if (!redis.HasExited) redis.Kill();
        }
    }
}
