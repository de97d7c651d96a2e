namespace Tuning.Trials.Execution;

/// <summary>
/// Where a trial's step logs are kept: <c>stdout.log</c> and <c>stderr.log</c> in the step's folder for a step that
/// ran; for a step taken from the cache, the entry's copies, found through a file in the step's folder naming the
/// entry (the trial record keeps no cache key, and copying the logs would count them against the trial's disk quota).
/// </summary>
public static class StepLogs
{
    public static readonly string[] Streams = ["stdout", "stderr"];

    /// <summary>The file in a cached step's folder that names the cache entry it was taken from.</summary>
    private const string EntryPointer = "cache-entry";

    /// <summary>The folder, inside a cache entry, holding the logs of the run that made it.</summary>
    public const string EntryLogsFolder = "logs";

    public static string FileName(string stream) => $"{stream}.log";

    /// <summary>Records that the step in <paramref name="stepDirectory"/> was taken from the cache entry in <paramref name="entryFolder"/>.</summary>
    public static void PointToEntry(string stepDirectory, string entryFolder) =>
        File.WriteAllText(Path.Combine(stepDirectory, EntryPointer), entryFolder);

    /// <summary>
    /// The log of <paramref name="stream"/> (stdout or stderr) of the step in <paramref name="stepDirectory"/>, and
    /// whether it is a cache entry's; null where none is kept (the step never started, or its entry was pruned).
    /// </summary>
    public static (string Path, bool Cached)? Find(string stepDirectory, string stream)
    {
        var own = Path.Combine(stepDirectory, FileName(stream));
        if (File.Exists(own)) return (own, false);
        var pointer = Path.Combine(stepDirectory, EntryPointer);
        if (!File.Exists(pointer)) return null;
        var cached = Path.Combine(File.ReadAllText(pointer).Trim(), EntryLogsFolder, FileName(stream));
        return File.Exists(cached) ? (cached, true) : null;
    }
}
