using System.Runtime.InteropServices;

namespace Tuning.Trials;

/// <summary>A second name for a file that no one writes any more, where the machine allows one; else a copy.</summary>
public static partial class HardLink
{
    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string added);

    /// <summary>
    /// Makes <paramref name="target"/> name the file at <paramref name="source"/>: a hard link (no new file, no bytes
    /// copied: a cache entry keeps its step's logs at the cost of a name), or a copy where links cannot be made
    /// (another file system, Windows, a file system without links).
    /// </summary>
    public static void LinkOrCopy(string source, string target)
    {
        if (!OperatingSystem.IsWindows() && Link(source, target) == 0) return;
        File.Copy(source, target, overwrite: true);
    }
}
