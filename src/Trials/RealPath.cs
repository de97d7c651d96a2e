using System.Runtime.InteropServices;

namespace Tuning.Trials;

/// <summary>A path with every symbolic link along it resolved, as the operating system resolves it (realpath(3)).</summary>
public static partial class RealPath
{
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Resolve(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>The resolved path of an existing file or folder, or null where it does not exist.</summary>
    public static string? Of(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return Path.GetFullPath(path);
        var resolved = Resolve(path, 0);
        if (resolved == 0) return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }
}
