using System.Security.Cryptography;

namespace Tuning.Trials.Caching;

/// <summary>
/// One file, folder or link of a cache entry's outputs as it was stored: its path under <c>outputs/</c>, what
/// statx(2) said of it, and the SHA-256 of a file's contents (of a link's target; none for a folder).
/// </summary>
public sealed record StoredItem(string Path, FileKind Kind, long Size, long Modified, long Changed, ulong Inode, string? Sha256);

/// <summary>
/// Keeps a stored entry's outputs as they were made. Downstream steps read <c>${steps.S.outputs}</c> in place, so a
/// step that wrote into it would change the entry for every later trial and study: the outputs are made read-only
/// when stored (files 0444, 0555 where the step made them executable; folders 0555), and their contents recorded,
/// so a change that read-only files do not stop (a step running as root, or one that chmods them back) is found
/// when the entry is next used.
/// </summary>
public static class EntryContents
{
    private const UnixFileMode ReadOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode OwnerWrites = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Makes every file and folder under <paramref name="outputs"/>, and the folder itself, read-only. Links are left
    /// alone: chmod would follow them out of the entry. Files the tuner does not own (a pod that ran as another user
    /// wrote them) stay as they are: the record of their contents still guards them.
    /// </summary>
    public static void Seal(string outputs)
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (var (_, path, stat) in Walk(outputs).Append((".", outputs, FileStat.Of(outputs))))
        {
            try
            {
                if (stat.Kind == FileKind.File)
                    File.SetUnixFileMode(path, ReadOnly | ((File.GetUnixFileMode(path) & Execute) != 0 ? Execute : 0));
                else if (stat.Kind == FileKind.Folder)
                    File.SetUnixFileMode(path, ReadOnly | Execute);
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// What is under <paramref name="outputs"/> now, each file's contents hashed: taken once, when the entry is stored
    /// (after <see cref="Seal"/>, whose chmod moves every inode-change time).
    /// </summary>
    public static IReadOnlyList<StoredItem> Record(string outputs) =>
        Walk(outputs).Select(item => new StoredItem(item.Relative, item.Stat.Kind, item.Stat.Size,
            item.Stat.ModifiedNanoseconds, item.Stat.ChangedNanoseconds, item.Stat.Inode, Digest(item.Path, item.Stat.Kind))).ToArray();

    /// <summary>
    /// How the outputs differ from what was stored, in words naming the first difference; null where they do not.
    /// </summary>
    /// <remarks>
    /// Every use of an entry checks it, so the check reads no contents where the inode is the one stored with the same
    /// size, modification and inode-change time: a write moves the modification time, and the inode-change time
    /// catches one given back by utime or touch, as no program can set it. Only a file whose inode changed without
    /// its size (an entry copied with its data folder, say) is read again and compared with its stored SHA-256, so a
    /// large entry costs a stat per file per use, not a read of every byte.
    /// </remarks>
    public static string? FindChange(string outputs, IReadOnlyList<StoredItem> stored)
    {
        var now = Walk(outputs).ToArray();
        var then = stored.ToDictionary(item => item.Path, StringComparer.Ordinal);
        foreach (var (relative, path, stat) in now)
        {
            if (!then.Remove(relative, out var was)) return $"outputs/{relative} was added";
            if (stat.Kind != was.Kind) return $"outputs/{relative} is now a {Describe(stat.Kind)}, not a {Describe(was.Kind)}";
            if (stat.Kind == FileKind.Folder) continue;
            if (stat.Size != was.Size) return $"outputs/{relative} holds {stat.Size} bytes, not the {was.Size} stored";
            var untouched = stat.Inode == was.Inode && stat.ModifiedNanoseconds == was.Modified && stat.ChangedNanoseconds == was.Changed;
            if (!untouched && (was.Sha256 is null || Digest(path, stat.Kind) != was.Sha256)) return $"outputs/{relative} was rewritten (same size, other contents)";
        }
        return then.Keys.Order(StringComparer.Ordinal).FirstOrDefault() is { } removed ? $"outputs/{removed} was removed" : null;
    }

    /// <summary>Deletes a folder that may hold sealed outputs: their folders are made writable first, since a read-only folder keeps its files from being unlinked.</summary>
    public static void Delete(string folder)
    {
        if (!OperatingSystem.IsWindows() && Directory.Exists(folder))
        {
            File.SetUnixFileMode(folder, File.GetUnixFileMode(folder) | OwnerWrites);
            foreach (var (_, path, _) in Walk(folder).Where(item => item.Stat.Kind == FileKind.Folder))
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | OwnerWrites);
        }
        Directory.Delete(folder, recursive: true);
    }

    private static string Describe(FileKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The SHA-256 of a file's contents or a link's target; null for a folder, and for a file the tuner may not read (known then by its size and times alone).</summary>
    private static string? Digest(string path, FileKind kind)
    {
        if (kind == FileKind.Link) return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(new FileInfo(path).LinkTarget ?? "")));
        if (kind != FileKind.File) return null;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            return Convert.ToHexStringLower(SHA256.HashData(file));
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Everything under <paramref name="root"/>, each folder's entries in ordinal order (so the first difference named is always the same), links listed but never followed.</summary>
    private static IEnumerable<(string Relative, string Path, FileStat Stat)> Walk(string root)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false };
        var pending = new Stack<string>([root]);
        while (pending.TryPop(out var folder))
        {
            foreach (var path in Directory.EnumerateFileSystemEntries(folder, "*", options).Order(StringComparer.Ordinal))
            {
                var stat = FileStat.Of(path);
                yield return (Path.GetRelativePath(root, path), path, stat);
                if (stat.Kind == FileKind.Folder) pending.Push(path);
            }
        }
    }
}
