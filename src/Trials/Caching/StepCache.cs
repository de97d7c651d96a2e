using System.Text.Json;
using Tuning.Trials.Execution;

namespace Tuning.Trials.Caching;

/// <summary>One stored step result: where its outputs are, what it reported, whose it was, and what its outputs held when stored (null for an entry stored before that was recorded).</summary>
public sealed record CacheEntry(
    string Key, string Step, string Study, DateTimeOffset Created, DateTimeOffset LastUsed, double Seconds,
    MetricReport Metrics, string Folder, IReadOnlyList<StoredItem>? Contents)
{
    /// <summary>The step's output folder: what <c>${steps.STEP.outputs}</c> names downstream.</summary>
    public string OutputDirectory => Path.Combine(Folder, StepCache.OutputsFolder);
}

/// <summary>A cache entry being written: the step runs with its outputs here, and only a complete one is committed.</summary>
public sealed record CacheBuild(string Key, string Folder)
{
    public string OutputDirectory => Path.Combine(Folder, StepCache.OutputsFolder);
}

/// <summary>
/// The step cache on disk, content-addressed: <c>KEY/outputs/</c> (the step's outputs), <c>KEY/logs/</c> (its output
/// and error logs) and <c>KEY/entry.json</c> (what it reported, which step of which study made it). An entry is built
/// in <c>.building/</c> and renamed into place when complete, so a partial entry is never visible, and a
/// crash part-way leaves only a folder under <c>.building/</c> that the next start removes. The write time of
/// entry.json is when the entry was last used. A stored entry's outputs are read-only and recorded
/// (<see cref="EntryContents"/>): one whose outputs changed since is no hit, and the next build of its key replaces
/// it, telling <paramref name="replacedChanged"/> what had changed.
/// </summary>
public sealed class StepCache(string directory, Action<string>? replacedChanged = null)
{
    public const string OutputsFolder = "outputs";
    private const string EntryFile = "entry.json";
    private const string BuildingFolder = ".building";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>The entry of a key, marked as used now; null when there is none, or its outputs changed since it was stored.</summary>
    public CacheEntry? Find(string key)
    {
        var entry = Read(Path.Combine(Directory, key));
        if (entry is null || Change(entry) is not null) return null;
        try
        {
            File.SetLastWriteTimeUtc(Path.Combine(entry.Folder, EntryFile), DateTime.UtcNow);
        }
        catch (IOException)
        {
            // Pruned meanwhile: the entry was found complete, and a step that reads it now fails plainly.
        }
        return entry with { LastUsed = DateTimeOffset.UtcNow };
    }

    /// <summary>A fresh folder to build an entry of <paramref name="key"/> in.</summary>
    public CacheBuild Begin(string key)
    {
        var folder = Path.Combine(Directory, BuildingFolder, $"{key}.{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Path.Combine(folder, OutputsFolder));
        return new CacheBuild(key, folder);
    }

    /// <summary>
    /// Makes a complete build the entry of its key: its outputs sealed, its logs linked beside them (the trial writes them no more), its record (with
    /// the outputs' contents) written, then the folder renamed into place in one step. Where an entry appeared
    /// meanwhile (a run whose turn lapsed built it too), that one is kept and this build is dropped. The entry returned
    /// was last used when it was created: a moment before its record's write time, which <see cref="Find"/> reads.
    /// </summary>
    public CacheEntry Commit(CacheBuild build, string step, string study, double seconds, MetricReport metrics, string logsFrom)
    {
        var logs = System.IO.Directory.CreateDirectory(Path.Combine(build.Folder, StepLogs.EntryLogsFolder));
        foreach (var log in StepLogs.Streams.Select(StepLogs.FileName))
            if (File.Exists(Path.Combine(logsFrom, log)))
                HardLink.LinkOrCopy(Path.Combine(logsFrom, log), Path.Combine(logs.FullName, log));
        EntryContents.Seal(build.OutputDirectory);
        var record = new EntryRecord(step, study, DateTimeOffset.UtcNow, seconds, metrics.Final,
            metrics.Intermediate.ToDictionary(m => m.Key, m => m.Value.ToArray()), EntryContents.Record(build.OutputDirectory));
        using (var file = new FileStream(Path.Combine(build.Folder, EntryFile), PrivateFiles.Options(FileMode.Create, FileAccess.Write, FileShare.None)))
            JsonSerializer.Serialize(file, record, Json);
        var target = Path.Combine(Directory, build.Key);
        // A folder at the key that is no entry (its record damaged or lost), or an entry whose outputs changed, would
        // shadow every later build: replace it.
        if (System.IO.Directory.Exists(target) && Read(target) is var existing
            && (existing is null ? "" : Change(existing)) is { } change)
        {
            if (existing is not null) replacedChanged?.Invoke($"cache entry {build.Key} of step '{existing.Step}' (study {existing.Study}) was built again: {change}");
            Remove(target);
        }
        try
        {
            System.IO.Directory.Move(build.Folder, target);
            return ToEntry(target, record, record.Created);
        }
        catch (IOException) when (System.IO.Directory.Exists(target))
        {
            Abandon(build);
        }
        return Read(target) ?? throw new IOException($"cache entry {build.Key} vanished as it was written");
    }

    /// <summary>Renames a folder out of sight, then deletes it: no reader ever sees half of it.</summary>
    private void Remove(string folder)
    {
        var doomed = Path.Combine(Directory, BuildingFolder, $"{Path.GetFileName(folder)}.removed.{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(doomed)!);
        System.IO.Directory.Move(folder, doomed);
        EntryContents.Delete(doomed);
    }

    /// <summary>Why an entry's outputs are not what was stored with it; null where they are.</summary>
    private static string? Change(CacheEntry entry)
    {
        if (entry.Contents is null) return "it was stored by an earlier tuner, which kept no record of its outputs";
        try
        {
            return EntryContents.FindChange(entry.OutputDirectory, entry.Contents);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"its outputs cannot be read: {e.Message}";
        }
    }

    /// <summary>Drops a build that did not complete.</summary>
    public static void Abandon(CacheBuild build)
    {
        try
        {
            EntryContents.Delete(build.Folder);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// Removes every unfinished build: at the start of the only process that uses this data folder (one silo per data
    /// folder: the lock of <c>tuner run</c> and <c>tuner serve</c>), all are leftovers of a killed run.
    /// </summary>
    public void RemoveUnfinishedBuilds()
    {
        var building = Path.Combine(Directory, BuildingFolder);
        if (System.IO.Directory.Exists(building)) EntryContents.Delete(building);
    }

    /// <summary>Every complete entry, most recently used first.</summary>
    public IReadOnlyList<CacheEntry> List() =>
        !System.IO.Directory.Exists(Directory) ? []
        : System.IO.Directory.EnumerateDirectories(Directory)
            .Where(folder => !Path.GetFileName(folder).StartsWith('.'))
            .Select(Read).OfType<CacheEntry>()
            .OrderByDescending(e => e.LastUsed).ToArray();

    /// <summary>The bytes an entry takes on disk (its files; links are not followed).</summary>
    public static long Size(CacheEntry entry) => Size(new DirectoryInfo(entry.Folder));

    private static long Size(DirectoryInfo folder) =>
        folder.EnumerateFileSystemInfos().Sum(e => e.LinkTarget is not null ? 0 : e is DirectoryInfo inner ? Size(inner) : ((FileInfo)e).Length);

    /// <summary>
    /// Removes entries not used for <paramref name="olderThan"/>, then the least recently used ones until the cache
    /// holds at most <paramref name="maxBytes"/>. Each entry is renamed out of sight before it is deleted, so a
    /// reader never sees half an entry. Returns what was removed.
    /// </summary>
    public IReadOnlyList<(CacheEntry Entry, long Bytes)> Prune(TimeSpan? olderThan, long? maxBytes, DateTimeOffset now)
    {
        var entries = List().Select(e => (Entry: e, Bytes: Size(e))).ToList();
        var removed = new List<(CacheEntry, long)>();
        var total = entries.Sum(e => e.Bytes);
        // Oldest first, so a size limit removes the least recently used.
        foreach (var (entry, bytes) in entries.OrderBy(e => e.Entry.LastUsed))
        {
            var stale = olderThan is { } age && now - entry.LastUsed > age;
            var over = maxBytes is { } max && total > max;
            if (!stale && !over) continue;
            Remove(entry.Folder);
            total -= bytes;
            removed.Add((entry, bytes));
        }
        return removed;
    }

    private static CacheEntry? Read(string folder)
    {
        var file = Path.Combine(folder, EntryFile);
        // Asked first, since a miss is what every new step meets (twice: before its turn and as it gets it): the
        // exception a missing file throws was about 2% of the CPU of 2,000 quick trials.
        if (!File.Exists(file)) return null;
        try
        {
            return JsonSerializer.Deserialize<EntryRecord>(File.ReadAllText(file), Json) is { } record
                ? ToEntry(folder, record, File.GetLastWriteTimeUtc(file))
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null; // gone meanwhile, or not one of ours: a miss
        }
    }

    private static CacheEntry ToEntry(string folder, EntryRecord record, DateTimeOffset lastUsed)
    {
        var metrics = new MetricReport();
        foreach (var (name, value) in record.Final) metrics.Final[name] = value;
        foreach (var (name, points) in record.Intermediate) metrics.Intermediate[name] = [.. points];
        return new CacheEntry(Path.GetFileName(folder), record.Step, record.Study, record.Created, lastUsed, record.Seconds, metrics, folder, record.Contents);
    }

    private sealed record EntryRecord(
        string Step, string Study, DateTimeOffset Created, double Seconds,
        Dictionary<string, double> Final, Dictionary<string, MetricPoint[]> Intermediate, IReadOnlyList<StoredItem>? Contents);
}
