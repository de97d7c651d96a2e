using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tuning.Load;

/// <summary>
/// Many studies of trivial trials at once through the HTTP API of <c>tuner serve</c> processes started here (one silo
/// on the embedded store, or several over a Redis started here), polled the way dashboards poll them; reports the
/// API's latency under that load, trials per second and the tuners' memory, and checks every study completed with
/// exactly its trials and no request failed. Bounded: --minutes of wall time and --max-requests polls, loopback only.
/// </summary>
public static class LoadRun
{
    private sealed class StudyRun(int index, string name, int silo)
    {
        public int Index { get; } = index;

        public string Name { get; } = name;

        /// <summary>The silo it was submitted to.</summary>
        public int Silo { get; } = silo;

        public string? Id { get; set; }

        public volatile bool Ended;

        // Read back after the load.
        public string? Status { get; set; }

        public string? Reason { get; set; }

        public int Succeeded { get; set; }

        public int Listed { get; set; }

        public int ListedSucceeded { get; set; }

        public DateTimeOffset? CreatedAt { get; set; }

        public DateTimeOffset? CompletedAt { get; set; }
    }

    private sealed record TrialSeen(string Status, string? Silo, DateTimeOffset? CompletedAt, int Retries, string? Error);

    public static async Task<int> RunAsync(Options o, CancellationToken interrupt)
    {
        using var timeUp = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        timeUp.CancelAfter(TimeSpan.FromMinutes(o.Minutes));
        var tuner = FindTuner(o.Tuner);
        if (tuner is null) return 1;
        var root = Directory.CreateTempSubdirectory("tuning-load-").FullName;
        var work = Directory.CreateDirectory(Path.Combine(root, "work")).FullName;
        var silos = new List<(Child Child, Uri Url)>();
        Child? redis = null;
        var passed = false;
        var latencies = new Latencies();
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.CompletedTask;
        try
        {
            // Start the system under load: redis-server for a cluster, then the silos, all on loopback addresses.
            var environment = new Dictionary<string, string> { ["TUNER_WATCH_SECONDS"] = "5", ["TUNER_GPUS"] = "none" };
            string[] cluster = [];
            if (o.Silos > 1)
            {
                var port = FreePort(o.Host);
                redis = StartRedis(o, port, Directory.CreateDirectory(Path.Combine(root, "redis")).FullName, Path.Combine(root, "redis.log"));
                await WaitForRedisAsync(o.Host, port, redis, timeUp.Token);
                var redisUrl = Options.RequireLoopback(new Uri($"redis://{o.UrlHost}:{port}"));
                cluster = ["--cluster", redisUrl.ToString().TrimEnd('/')];
            }
            for (var i = 0; i < o.Silos; i++)
            {
                var url = Options.RequireLoopback(new Uri($"http://{o.UrlHost}:{FreePort(o.Host)}"));
                var child = Child.Start($"silo-{i + 1}", "dotnet",
                    [tuner, "serve", "--urls", url.ToString().TrimEnd('/'), "--data", Path.Combine(root, "data"), "--workdir", work, .. cluster],
                    work, Path.Combine(root, $"silo-{i + 1}.log"), environment);
                silos.Add((child, url));
            }
            var clients = silos.Select(s => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 })
            {
                BaseAddress = Options.RequireLoopback(s.Url),
                Timeout = TimeSpan.FromSeconds(60),
            }).ToArray();
            var startup = Stopwatch.StartNew();
            await Task.WhenAll(silos.Select((s, i) => WaitForSiloAsync(clients[i], s.Child, timeUp.Token)));
            Console.Error.WriteLine($"load: {o.Silos} silo{(o.Silos > 1 ? "s" : "")} ready in {startup.Elapsed.TotalSeconds:F1} s " +
                $"({string.Join(", ", silos.Select(s => s.Url.ToString().TrimEnd('/')))}{(redis is null ? "" : ", Redis")}); data and logs in {root}");

            IEnumerable<Child> Everything() => silos.Select(s => s.Child).Concat(redis is null ? [] : [redis]);
            sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    foreach (var child in Everything()) child.Sample();
                    try
                    {
                        await Task.Delay(1000, sampling.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });

            // Submit every study at once, round-robin to the silos.
            long requests = 0;
            async Task<(int Status, JsonDocument? Body)> SendAsync(string kind, HttpClient client, HttpMethod method, string path, HttpContent? content, CancellationToken cancellation)
            {
                Interlocked.Increment(ref requests);
                var clock = Stopwatch.StartNew();
                try
                {
                    using var request = new HttpRequestMessage(method, path) { Content = content };
                    using var response = await client.SendAsync(request, cancellation);
                    var text = await response.Content.ReadAsStringAsync(cancellation);
                    var status = (int)response.StatusCode;
                    latencies.Record(kind, clock.Elapsed.TotalMilliseconds, status, text.Length > 300 ? text[..300] : text);
                    return (status, status is >= 200 and < 300 ? JsonDocument.Parse(text) : null);
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    return (-1, null); // the run's end, not the server's doing
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                {
                    latencies.Exception(kind, e);
                    return (0, null);
                }
            }

            var runs = Enumerable.Range(0, o.Studies).Select(i => new StudyRun(i, $"load-{i + 1:D4}", i % o.Silos)).ToArray();
            var firstSubmit = DateTimeOffset.UtcNow;
            var load = Stopwatch.StartNew();
            await Task.WhenAll(runs.Select(async run =>
            {
                var (status, body) = await SendAsync("submit", clients[run.Silo], HttpMethod.Post, "api/studies",
                    new StringContent(StudyYaml(run, o), Encoding.UTF8, "application/yaml"), timeUp.Token);
                using (body)
                {
                    if (status == 201 && body is not null) run.Id = body.RootElement.GetProperty("id").GetString();
                }
            }));
            var submitted = runs.Count(r => r.Id is not null);
            Console.Error.WriteLine($"load: {submitted} of {o.Studies} studies submitted in {load.Elapsed.TotalSeconds:F1} s; polling with {o.Pollers} pollers");

            // Pollers: each takes the next running study in turn and asks, alternately, for the study and a page of its
            // trials, from the silos in turn (any silo answers for any study), until every study has ended.
            var cursor = -1;
            StudyRun? NextRunning()
            {
                for (var i = 0; i < runs.Length; i++)
                {
                    var run = runs[(int)((uint)Interlocked.Increment(ref cursor) % (uint)runs.Length)];
                    if (run.Id is not null && !run.Ended) return run;
                }
                return null;
            }
            var budgetSpent = false;
            using var progress = new Timer(_ =>
                Console.Error.WriteLine($"load: {load.Elapsed.TotalSeconds,6:F0} s: {runs.Count(r => r.Ended)} of {submitted} studies ended, " +
                    $"{Interlocked.Read(ref requests)} requests, RSS {string.Join(", ", Everything().Select(c => $"{c.Name} {c.LastRssKb / 1024} MiB"))}"),
                null, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));
            await Task.WhenAll(Enumerable.Range(0, o.Pollers).Select(async poller =>
            {
                for (var turn = 0; !timeUp.IsCancellationRequested; turn++)
                {
                    if (Interlocked.Read(ref requests) >= o.MaxRequests)
                    {
                        budgetSpent = true;
                        return;
                    }
                    if (NextRunning() is not { } run) return;
                    var client = clients[(poller + turn) % clients.Length];
                    if (turn % 2 == 0)
                    {
                        var (_, body) = await SendAsync("study", client, HttpMethod.Get, $"api/studies/{run.Id}", null, timeUp.Token);
                        using (body)
                        {
                            if (body?.RootElement.GetProperty("status").GetString() is "Succeeded" or "Failed" or "Stopped") run.Ended = true;
                        }
                    }
                    else
                    {
                        var (_, body) = await SendAsync("trials", client, HttpMethod.Get, $"api/studies/{run.Id}/trials?limit=100", null, timeUp.Token);
                        body?.Dispose();
                    }
                    if (o.ThinkMilliseconds > 0)
                    {
                        try
                        {
                            await Task.Delay(o.ThinkMilliseconds, timeUp.Token);
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    }
                }
            }));
            await progress.DisposeAsync();
            var loadSeconds = load.Elapsed.TotalSeconds;
            var ended = runs.Count(r => r.Ended);
            var cut = ended < submitted || submitted < o.Studies;
            var cutReason = !cut ? null
                : interrupt.IsCancellationRequested ? "interrupted"
                : timeUp.IsCancellationRequested ? $"--minutes {o.Minutes} ran out"
                : budgetSpent ? $"--max-requests {o.MaxRequests} spent"
                : submitted < o.Studies ? "studies were refused" : "polling stopped";
            foreach (var child in Everything()) child.MarkFinal();
            var polls = Interlocked.Read(ref requests) - o.Studies;

            // Read back every study and all its trials (not counted in the load's latencies: kind "verify").
            using var verifying = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
            verifying.CancelAfter(TimeSpan.FromMinutes(3));
            var trials = new List<TrialSeen>();
            using var gate = new SemaphoreSlim(4);
            await Task.WhenAll(runs.Where(r => r.Id is not null).Select(async run =>
            {
                await gate.WaitAsync(verifying.Token);
                try
                {
                    var client = clients[run.Silo];
                    var (_, study) = await SendAsync("verify", client, HttpMethod.Get, $"api/studies/{run.Id}", null, verifying.Token);
                    using (study)
                    {
                        if (study is null) return;
                        var s = study.RootElement;
                        run.Status = s.GetProperty("status").GetString();
                        run.Reason = s.GetProperty("reason").GetString();
                        run.Succeeded = s.GetProperty("succeeded").GetInt32();
                        run.CreatedAt = s.GetProperty("createdAt").GetDateTimeOffset();
                        run.CompletedAt = s.GetProperty("completedAt").ValueKind == JsonValueKind.Null ? null : s.GetProperty("completedAt").GetDateTimeOffset();
                    }
                    var seen = new List<TrialSeen>();
                    string? next = null;
                    do
                    {
                        var (_, page) = await SendAsync("verify", client, HttpMethod.Get,
                            $"api/studies/{run.Id}/trials?limit=1000{(next is null ? "" : "&after=" + Uri.EscapeDataString(next))}", null, verifying.Token);
                        using (page)
                        {
                            if (page is null) return;
                            foreach (var t in page.RootElement.GetProperty("trials").EnumerateArray())
                                seen.Add(new TrialSeen(t.GetProperty("status").GetString()!,
                                    t.GetProperty("silo").ValueKind == JsonValueKind.String ? t.GetProperty("silo").GetString() : null,
                                    t.GetProperty("completedAt").ValueKind == JsonValueKind.Null ? null : t.GetProperty("completedAt").GetDateTimeOffset(),
                                    t.GetProperty("retries").ValueKind == JsonValueKind.Array ? t.GetProperty("retries").GetArrayLength() : 0,
                                    t.GetProperty("error").GetString()));
                            next = page.RootElement.GetProperty("next").ValueKind == JsonValueKind.String ? page.RootElement.GetProperty("next").GetString() : null;
                        }
                    } while (next is not null);
                    run.Listed = seen.Count;
                    run.ListedSucceeded = seen.Count(t => t.Status == "Succeeded");
                    lock (trials) trials.AddRange(seen);
                }
                finally
                {
                    gate.Release();
                }
            }));

            var cpu = Everything().ToDictionary(c => c.Name, c => c.CpuSeconds());
            await sampling.CancelAsync();
            await sampler;
            await Task.WhenAll(silos.Select(s => s.Child.StopAsync(TimeSpan.FromSeconds(30))));
            if (redis is not null) await redis.StopAsync(TimeSpan.FromSeconds(10));

            // The report.
            var good = runs.Where(r => r.Status == "Succeeded" && r.Succeeded == o.Trials && r.Listed == o.Trials && r.ListedSucceeded == o.Trials).ToArray();
            var summary = latencies.Summarize();
            var serverErrors = summary.Values.Sum(s => s.ServerErrors);
            var exceptions = summary.Values.Sum(s => s.Exceptions);
            var completions = trials.Where(t => t is { Status: "Succeeded", CompletedAt: not null }).Select(t => t.CompletedAt!.Value).Order().ToArray();
            var lastEnd = runs.Where(r => r.Ended && r.CompletedAt is not null).Select(r => r.CompletedAt!.Value).DefaultIfEmpty(firstSubmit).Max();
            var wall = cut ? loadSeconds : (lastEnd - firstSubmit).TotalSeconds;
            double Rate(int from, int to) => from >= 0 && to > from ? Math.Round((to - from) / (completions[to] - completions[from]).TotalSeconds, 1) : double.NaN;
            var tenth = Math.Max(1, completions.Length / 10);
            var studySeconds = runs.Where(r => r is { CreatedAt: not null, CompletedAt: not null })
                .Select(r => (r.CompletedAt!.Value - r.CreatedAt!.Value).TotalSeconds).Order().ToArray();
            passed = !cut && good.Length == o.Studies && serverErrors == 0 && exceptions == 0;
            var failures = new List<string>();
            if (cut) failures.Add($"cut short: {cutReason}; {ended} of {o.Studies} studies ended");
            foreach (var run in runs.Where(r => !good.Contains(r)).Take(10))
                failures.Add($"{run.Name} ({run.Id ?? "not submitted"}): {run.Status ?? "?"}{(run.Reason is null ? "" : $" ({run.Reason})")}, " +
                    $"{run.Succeeded} succeeded, {run.Listed} trials listed, {run.ListedSucceeded} of them Succeeded; expected {o.Trials}");
            if (serverErrors > 0) failures.Add($"{serverErrors} responses were 5xx");
            if (exceptions > 0) failures.Add($"{exceptions} requests failed without a response (connection, timeout)");

            var processes = Everything().Select(c => new
            {
                name = c.Name,
                peakRssMiB = Math.Round(c.PeakRssKb / 1024.0, 1),
                finalRssMiB = Math.Round(c.FinalRssKb / 1024.0, 1),
                cpuSeconds = Math.Round(cpu[c.Name].Own, 1),
                stepCpuSeconds = Math.Round(cpu[c.Name].Children, 1),
            }).ToArray();
            var trialErrors = trials.Where(t => t.Status != "Succeeded")
                .GroupBy(t => $"{t.Status}: {t.Error ?? "(no error)"}").OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count());
            if (trialErrors.Count > 0) failures.Add($"{trials.Count(t => t.Status != "Succeeded")} trials did not succeed");
            var perSilo = trials.GroupBy(t => t.Silo ?? "?").OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
            var result = new
            {
                benchmark = "load",
                silos = o.Silos,
                studies = o.Studies,
                trialsPerStudy = o.Trials,
                parallel = o.Parallel,
                pollers = o.Pollers,
                thinkMilliseconds = o.ThinkMilliseconds,
                pass = passed,
                cut = cutReason,
                studiesSucceeded = good.Length,
                trialsSucceeded = completions.Length,
                trialsNotSucceeded = trialErrors,
                retries = trials.Sum(t => t.Retries),
                wallSeconds = Math.Round(wall, 2),
                trialsPerSecond = Math.Round(completions.Length / wall, 1),
                firstTenthPerSecond = Rate(0, tenth),
                lastTenthPerSecond = Rate(completions.Length - 1 - tenth, completions.Length - 1),
                studySeconds = new { p50 = Latencies.Percentile(studySeconds, 0.5), max = studySeconds.Length == 0 ? double.NaN : Math.Round(studySeconds[^1], 1) },
                pollRequests = polls,
                pollsPerSecond = Math.Round(polls / loadSeconds, 1),
                requests = summary.OrderBy(k => Order(k.Key)).ToDictionary(k => k.Key, k => new
                {
                    count = k.Value.Count, p50 = k.Value.P50, p90 = k.Value.P90, p99 = k.Value.P99, max = k.Value.Max,
                    nonSuccess = k.Value.NonSuccess, serverErrors = k.Value.ServerErrors, exceptions = k.Value.Exceptions, statuses = k.Value.Statuses,
                }),
                processes,
                trialsPerSilo = perSilo,
                failures,
            };

            var e = Console.Error;
            e.WriteLine();
            e.WriteLine($"load: {o.Silos} silo{(o.Silos > 1 ? "s (Redis)" : " (embedded store)")}, {o.Studies} studies × {o.Trials} trivial trials, " +
                $"{o.Parallel} in parallel each; {o.Pollers} pollers, {o.ThinkMilliseconds} ms between a poller's requests");
            e.WriteLine($"  {good.Length} of {o.Studies} studies Succeeded with exactly {o.Trials} trials; {completions.Length} trials in {wall:F1} s " +
                $"= {result.trialsPerSecond} trials/s (first tenth {result.firstTenthPerSecond}/s, last tenth {result.lastTenthPerSecond}/s); " +
                $"a study took {result.studySeconds.p50} s (median), {result.studySeconds.max} s at most; {result.retries} retries");
            e.WriteLine($"  {"requests",-10} {"count",7} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8} {"non-2xx",8} {"5xx",5} {"failed",7}");
            foreach (var (kind, s) in summary.OrderBy(k => Order(k.Key)))
                e.WriteLine($"  {kind,-10} {s.Count,7} {s.P50,8:F1} {s.P90,8:F1} {s.P99,8:F1} {s.Max,8:F1} {s.NonSuccess,8} {s.ServerErrors,5} {s.Exceptions,7}");
            e.WriteLine($"  {polls} polls, {result.pollsPerSecond}/s");
            e.WriteLine($"  {"process",-10} {"peak RSS",10} {"final RSS",10} {"CPU s",8} {"steps' CPU s",13}");
            foreach (var p in processes)
                e.WriteLine($"  {p.name,-10} {p.peakRssMiB,6:F0} MiB {p.finalRssMiB,6:F0} MiB {p.cpuSeconds,8:F1} {p.stepCpuSeconds,13:F1}");
            if (o.Silos > 1) e.WriteLine($"  trials per silo: {string.Join(", ", perSilo.Select(p => $"{p.Key} {p.Value}"))}");
            foreach (var (kind, s) in summary)
                foreach (var error in s.Errors) e.WriteLine($"  {kind} error: {error}");
            foreach (var (error, count) in trialErrors.Take(5)) e.WriteLine($"  {count} trials {error}");
            foreach (var failure in failures) e.WriteLine($"  FAIL: {failure}");
            e.WriteLine(passed ? "PASS" : "FAIL");
            Console.WriteLine(JsonSerializer.Serialize(result, Json));
            return passed ? 0 : 1;
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or TimeoutException)
        {
            Console.Error.WriteLine($"load: {e.Message}");
            Console.Error.WriteLine("FAIL");
            return 1;
        }
        finally
        {
            await sampling.CancelAsync();
            await sampler;
            foreach (var (child, _) in silos) await child.DisposeAsync();
            if (redis is not null) await redis.DisposeAsync();
            if (passed && !o.Keep) Directory.Delete(root, recursive: true);
            else Console.Error.WriteLine($"load: kept {root} (data folder, silo and Redis logs)");
        }
    }

    /// <summary>NaN (nothing measured) written as "NaN" rather than refused.</summary>
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static int Order(string kind) => kind switch { "submit" => 0, "study" => 1, "trials" => 2, _ => 3 };

    /// <summary>
    /// A trivial trial: one uncached step that echoes its parameter as the objective. maxFailedTrials is the whole
    /// budget, so a failed trial does not end its study: the load stays its full size and every failure is counted.
    /// </summary>
    private static string StudyYaml(StudyRun run, Options o) => $$"""
        name: {{run.Name}}
        objective: {metric: objective, goal: minimize}
        algorithm: {name: random, seed: {{run.Index + 1}}}
        budget: {maxTrials: {{o.Trials}}, parallelTrials: {{o.Parallel}}, maxFailedTrials: {{o.Trials}}}
        parameters: [{name: x, type: double, min: 0, max: 1}]
        trial:
          steps: [{name: s, cache: false, command: [sh, -c, "echo objective=${params.x}"]}]
        """;

    /// <summary>The given tuner.dll, or the repository's Release build (built here when missing).</summary>
    private static string? FindTuner(string? given)
    {
        if (given is not null)
        {
            if (File.Exists(given)) return Path.GetFullPath(given);
            Console.Error.WriteLine($"load: no tuner at {given}");
            return null;
        }
        string? root = null;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null && root is null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Tuning.sln"))) root = dir.FullName;
        if (root is null)
        {
            Console.Error.WriteLine("load: cannot find Tuning.sln above this program or the current folder; give --tuner PATH/tuner.dll");
            return null;
        }
        var tuner = Path.Combine(root, "src", "Api", "bin", "Release", "net10.0", "tuner.dll");
        if (File.Exists(tuner)) return tuner;
        Console.Error.WriteLine($"load: building the tuner: dotnet build {Path.Combine(root, "src", "Api")} -c Release");
        using var build = Process.Start(new ProcessStartInfo("dotnet", ["build", Path.Combine(root, "src", "Api"), "-c", "Release", "-v", "q"]) { UseShellExecute = false });
        build?.WaitForExit();
        if (File.Exists(tuner)) return tuner;
        Console.Error.WriteLine($"load: the build made no {tuner}");
        return null;
    }

    private static int FreePort(string host)
    {
        var address = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(host.Trim('[', ']'));
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Child StartRedis(Options o, int port, string dir, string log)
    {
        try
        {
            return Child.Start("redis", "redis-server",
                ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", o.Host == "localhost" ? "127.0.0.1" : o.Host.Trim('[', ']'),
                 "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir],
                dir, log);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("--silos above 1 needs redis-server (apt-get install redis-server)");
        }
    }

    private static async Task WaitForRedisAsync(string host, int port, Child redis, CancellationToken cancellation)
    {
        for (var waited = Stopwatch.StartNew(); ; await Task.Delay(100, cancellation))
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(host == "localhost" ? "127.0.0.1" : host.Trim('[', ']'), port, cancellation);
                var stream = tcp.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellation);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer, cancellation);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal)) return;
            }
            catch (SocketException)
            {
            }
            if (redis.Process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(30))
                throw new InvalidOperationException($"redis-server did not start:\n{redis.LogTail()}");
        }
    }

    private static async Task WaitForSiloAsync(HttpClient client, Child silo, CancellationToken cancellation)
    {
        for (var waited = Stopwatch.StartNew(); ; await Task.Delay(200, cancellation))
        {
            try
            {
                using var response = await client.GetAsync("api/studies", cancellation);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            if (silo.Process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(120))
                throw new InvalidOperationException($"{silo.Name} did not start:\n{silo.LogTail()}");
        }
    }
}
