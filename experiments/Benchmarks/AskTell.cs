using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tuning.Benchmarks;

/// <summary>
/// Ask+tell round trips per second against <c>tuner serve</c> (in this process, embedded store, every tell stored
/// before its answer) from THREADS client threads over HTTP, with each ask's latency; then Optuna 3.1's ask/tell on
/// its JournalStorage from as many threads, in the same run (experiments/optuna-parity/optuna_asktell.py).
/// </summary>
public static class AskTell
{
    public static async Task<int> RunAsync(int rounds, int threads, string algorithm, string? python)
    {
        var folder = Directory.CreateTempSubdirectory("tuning-asktell-").FullName;
        try
        {
            var (app, client) = await Service.StartAsync(folder);
            await using var stopping = app;
            using var _ = client;
            var id = await Service.Submit(client, Service.ExternalStudy("asktell", algorithm, rounds, "5m"));
            var asks = new ConcurrentBag<(int Number, double Milliseconds)>();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Run(async () =>
            {
                while (true)
                {
                    var one = Stopwatch.StartNew();
                    var asked = await client.PostAsync($"api/studies/{id}/trials", null);
                    if (asked.StatusCode == System.Net.HttpStatusCode.Conflict) return;
                    asked.EnsureSuccessStatusCode();
                    var trial = JsonDocument.Parse(await asked.Content.ReadAsStringAsync()).RootElement;
                    var number = trial.GetProperty("number").GetInt32();
                    asks.Add((number, one.Elapsed.TotalMilliseconds));
                    var x = trial.GetProperty("parameters").GetProperty("x").GetDouble();
                    (await client.PostAsJsonAsync($"api/studies/{id}/trials/{number}/tell",
                        new { attempt = trial.GetProperty("attempt").GetString(), metrics = new { objective = x } })).EnsureSuccessStatusCode();
                }
            })));
            var seconds = clock.Elapsed.TotalSeconds;
            var study = JsonDocument.Parse(await client.GetStringAsync($"api/studies/{id}")).RootElement;
            var succeeded = study.GetProperty("succeeded").GetInt32();

            double Percentile(IEnumerable<double> values, double p)
            {
                var sorted = values.Order().ToArray();
                return sorted.Length == 0 ? double.NaN : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)], 2);
            }
            // Ask latency as the study grows: per hundred observations, so a model's cost per suggestion shows.
            var byHundred = asks.GroupBy(a => a.Number / 100 * 100).OrderBy(g => g.Key)
                .ToDictionary(g => $"{g.Key}-{g.Key + 99}", g => new { p50 = Percentile(g.Select(a => a.Milliseconds), 0.5), p99 = Percentile(g.Select(a => a.Milliseconds), 0.99) });
            var optuna = algorithm == "random" ? Optuna(rounds, threads, python) : null;
            var result = new
            {
                benchmark = "ask-tell",
                algorithm,
                rounds,
                threads,
                succeeded,
                status = study.GetProperty("status").GetString(),
                seconds = Math.Round(seconds, 2),
                roundTripsPerSecond = Math.Round(succeeded / seconds, 1),
                askMilliseconds = new { p50 = Percentile(asks.Select(a => a.Milliseconds), 0.5), p99 = Percentile(asks.Select(a => a.Milliseconds), 0.99) },
                askMillisecondsByObservations = byHundred,
                optuna,
            };
            Console.Error.WriteLine($"ask-tell: {succeeded} round trips from {threads} threads in {seconds:F2} s: {result.roundTripsPerSecond}/s " +
                $"(ask p50 {result.askMilliseconds.p50} ms, p99 {result.askMilliseconds.p99} ms; {algorithm})" +
                (optuna is { } o ? $"; Optuna 3.1 JournalStorage, same threads: {o.RootElement.GetProperty("perSecond")}/s" : ""));
            Console.WriteLine(JsonSerializer.Serialize(result));
            return succeeded == rounds ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The Optuna script's JSON line (Debian's /usr/bin/python3 has python3-optuna).</summary>
    private static JsonDocument Optuna(int rounds, int threads, string? python)
    {
        var script = TpeParity.FindScript("optuna_asktell.py") ?? throw new FileNotFoundException("experiments/optuna-parity/optuna_asktell.py not found above the current folder");
        var start = new ProcessStartInfo(python ?? TpeParity.DebianPython) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { script, $"{rounds}", $"{threads}" }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} exited {process.ExitCode}");
        return JsonDocument.Parse(output);
    }
}
