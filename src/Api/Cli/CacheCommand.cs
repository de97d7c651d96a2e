using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tuning.Api.Reports;
using Tuning.Trials.Caching;
using Tuning.Trials.Studies;
using Tuning.Tuner.Hosting;

namespace Tuning.Api.Cli;

/// <summary><c>tuner cache list</c> and <c>tuner cache prune</c>: the step cache of a data folder, shown and cleaned.</summary>
public static partial class CacheCommand
{
    public static Command Create()
    {
        var command = new Command("cache", "Show or clean the step cache of a data folder (steps whose inputs did not change are taken from it)");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Prune());
        return command;
    }

    private static Command List()
    {
        var data = CommonOptions.Data();
        var json = new Option<bool>("--json") { Description = "Print JSON, for scripts" };
        var command = new Command("list", "List cache entries, most recently used first: key, step, study, size, last used") { data, json };
        command.SetAction(parse =>
        {
            var cache = Cache(parse.GetValue(data)!);
            var entries = cache.List().Select(e => new CacheEntryView(e.Key, e.Step, e.Study, StepCache.Size(e), e.Created, e.LastUsed, e.Seconds)).ToArray();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(entries, Views.Json));
                return 0;
            }
            if (entries.Length == 0)
            {
                Console.WriteLine($"The cache in {cache.Directory} is empty.");
                return 0;
            }
            Console.WriteLine($"{"KEY",-12}  {"STEP",-16} {"STUDY",-20} {"SIZE",9}  {"RAN",8}  LAST USED");
            foreach (var e in entries)
                Console.WriteLine($"{e.Key[..12]}  {e.Step,-16} {e.Study,-20} {Size(e.Bytes),9}  {e.Seconds,7:F1}s  {e.LastUsed.ToLocalTime():yyyy-MM-dd HH:mm}");
            Console.WriteLine($"{entries.Length} entries, {Size(entries.Sum(e => e.Bytes))} in {cache.Directory}");
            return 0;
        });
        return command;
    }

    private static Command Prune()
    {
        var data = CommonOptions.Data();
        var olderThan = new Option<string?>("--older-than") { Description = "Remove entries not used for this long: 7d, 12h, 90m" };
        var maxSize = new Option<string?>("--max-size") { Description = "Then remove the least recently used until the cache holds at most this: 10G, 500M" };
        var command = new Command("prune", "Remove cache entries not used for a while, or the least recently used beyond a size") { data, olderThan, maxSize };
        command.SetAction(parse =>
        {
            var (ageText, sizeText) = (parse.GetValue(olderThan), parse.GetValue(maxSize));
            if (ageText is null && sizeText is null)
                return Refuse("say what to remove: --older-than 7d, --max-size 10G, or both");
            TimeSpan? age = null;
            if (ageText is not null)
            {
                // A unit is required: a bare 7 would mean seconds, and prune everything used before a moment ago.
                if (!char.IsLetter(ageText.Trim().LastOrDefault()) || StudyFile.DurationSeconds(ageText) is not { } seconds || seconds > TimeSpan.MaxValue.TotalSeconds)
                    return Refuse($"--older-than '{ageText}' is not a duration; write it like 7d, 12h or 90m");
                age = TimeSpan.FromSeconds(seconds);
            }
            long? bytes = null;
            if (sizeText is not null)
            {
                bytes = Bytes(sizeText);
                if (bytes is null) return Refuse($"--max-size '{sizeText}' is not a size; write it like 10G, 500M or 0");
            }
            var folder = Path.GetFullPath(parse.GetValue(data)!);
            // A running tuner may be reading an entry right now: prune only a data folder nobody uses.
            using var dataLock = CommonOptions.LockDataDirectory(folder);
            if (dataLock is null)
            {
                Console.Error.WriteLine(CommonOptions.InUse(folder));
                return 1;
            }
            var removed = Cache(folder).Prune(age, bytes, DateTimeOffset.UtcNow);
            foreach (var (entry, size) in removed)
                Console.WriteLine($"removed {entry.Key[..12]}  {entry.Step} of {entry.Study}, {Size(size)}, last used {entry.LastUsed.ToLocalTime():yyyy-MM-dd HH:mm}");
            Console.WriteLine($"Removed {removed.Count} entries, {Size(removed.Sum(r => r.Bytes))}.");
            return 0;
        });
        return command;
    }

    private static int Refuse(string message)
    {
        Console.Error.WriteLine($"tuner: {message}");
        return 2;
    }

    private static StepCache Cache(string data) => new(new TunerOptions { DataDirectory = data }.CacheDirectory);

    /// <summary>A size like 10G, 500M, 1.5T or 4096 (bytes); units are binary (1K = 1024 bytes).</summary>
    public static long? Bytes(string text) => Trials.Studies.StudyFile.SizeBytes(text);

    private static string Size(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB"
        : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):F1} MiB"
        : bytes >= 1L << 10 ? $"{bytes / 1024.0:F1} KiB"
        : $"{bytes} B";

    private sealed record CacheEntryView(string Key, string Step, string Study, long Bytes, DateTimeOffset Created, DateTimeOffset LastUsed, double Seconds);
}
