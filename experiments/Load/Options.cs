using System.Globalization;
using System.Net;

namespace Tuning.Load;

/// <summary>The command line of the load generator; every bound it runs under (studies, requests, minutes) is here.</summary>
public sealed record Options(
    int Silos, int Studies, int Trials, int Parallel, int Pollers, double Minutes, int ThinkMilliseconds, int MaxRequests,
    string Host, string? Tuner, bool Keep)
{
    public const string Usage = """
        Usage: dotnet run -c Release --project experiments/Load -- [options]

          --silos N          1 (embedded SQLite store) or 3 (a cluster over a redis-server started here); default 1
          --studies N        studies submitted at once over HTTP, round-robin to the silos; default 100
          --trials N         trivial trials per study (sh -c "echo objective=X", cache: false); default 100
          --parallel N       each study's budget.parallelTrials; default 4
          --pollers N        clients polling GET /api/studies/{id} and /trials?limit=100 while studies run; default 8
          --think MS         each poller's pause between its requests; default 50
          --minutes M        stop after M minutes, reporting what finished; default 10
          --max-requests N   stop polling after N requests; default 200000
          --host H           the loopback address the tuners listen on (127.0.0.1, ::1, localhost); default 127.0.0.1.
                             Any other address is refused: this program only loads tuners it started on this machine
          --tuner PATH       the tuner.dll to run; default src/Api/bin/Release/net10.0/tuner.dll, built if missing
          --keep             keep the temporary folder (data, logs) even when the run passes

        Prints a summary and PASS or FAIL on stderr, one JSON line on stdout. Exit code 0 PASS, 1 FAIL, 2 usage.
        """;

    /// <returns>The options, or null with the reason when the command line does not fit.</returns>
    public static (Options? Options, string? Error) Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        var keep = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--keep") { keep = true; continue; }
            if (args[i] is "--help" or "-h") return (null, "");
            if (!Known.Contains(args[i])) return (null, $"unknown option '{args[i]}'");
            if (i + 1 >= args.Length) return (null, $"{args[i]} needs a value");
            values[args[i]] = args[++i];
        }
        try
        {
            int Int(string name, int fallback, int min, int max)
            {
                var value = values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
                return value >= min && value <= max ? value : throw new FormatException($"{name} must be from {min} to {max}, got {value}");
            }
            var minutes = values.TryGetValue("--minutes", out var m) ? double.Parse(m, CultureInfo.InvariantCulture) : 10;
            if (minutes is <= 0 or > 120) throw new FormatException($"--minutes must be above 0 and at most 120, got {minutes}");
            var host = values.GetValueOrDefault("--host", "127.0.0.1");
            if (!IsLoopback(host)) throw new FormatException($"--host {host} is not a loopback address: this program loads only tuners it starts on this machine");
            return (new Options(
                Int("--silos", 1, 1, 5), Int("--studies", 100, 1, 10_000), Int("--trials", 100, 1, 100_000), Int("--parallel", 4, 1, 64),
                Int("--pollers", 8, 1, 256), minutes, Int("--think", 50, 0, 60_000), Int("--max-requests", 200_000, 1, 10_000_000),
                host, values.GetValueOrDefault("--tuner"), keep), null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static readonly HashSet<string> Known =
        ["--silos", "--studies", "--trials", "--parallel", "--pollers", "--think", "--minutes", "--max-requests", "--host", "--tuner"];

    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Every address this program sends to goes through here: a target off this machine is an error, never a request.</summary>
    public static Uri RequireLoopback(Uri uri) =>
        uri.IsLoopback && IsLoopback(uri.Host) ? uri : throw new InvalidOperationException($"refusing a non-loopback target: {uri}");

    /// <summary>The host as it goes in a URL (an IPv6 address in brackets).</summary>
    public string UrlHost => Host.Contains(':') && !Host.StartsWith('[') ? $"[{Host}]" : Host;
}
