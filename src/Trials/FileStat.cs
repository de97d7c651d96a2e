using System.Runtime.InteropServices;

namespace Tuning.Trials;

public enum FileKind { File, Folder, Link, Other }

/// <summary>
/// What statx(2) says of a path, links not followed. .NET shows no inode-change time (ctime), and ctime is what tells a
/// file rewritten and given its old modification time back: no program can set it, every write and chmod moves it.
/// </summary>
public readonly partial record struct FileStat(FileKind Kind, long Size, long ModifiedNanoseconds, long ChangedNanoseconds, ulong Inode)
{
    private const int AtCurrentFolder = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint BasicStats = 0x7ff;
    private const ushort TypeMask = 0xf000, RegularFile = 0x8000, Directory = 0x4000, SymbolicLink = 0xa000;

    /// <summary>struct statx: a layout the kernel keeps the same on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Statx
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(96)] public long ChangedSeconds;
        [FieldOffset(104)] public uint ChangedNanoseconds;
        [FieldOffset(112)] public long ModifiedSeconds;
        [FieldOffset(120)] public uint ModifiedNanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Call(int folder, string path, int flags, uint mask, out Statx result);

    /// <summary>The path's kind, size, times and inode; an <see cref="IOException"/> where it cannot be read.</summary>
    public static FileStat Of(string path)
    {
        if (Call(AtCurrentFolder, path, AtSymlinkNoFollow, BasicStats, out var stat) != 0)
            throw new IOException($"cannot stat {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        var kind = (stat.Mode & TypeMask) switch
        {
            RegularFile => FileKind.File,
            Directory => FileKind.Folder,
            SymbolicLink => FileKind.Link,
            _ => FileKind.Other,
        };
        return new FileStat(kind, (long)stat.Size,
            stat.ModifiedSeconds * 1_000_000_000 + stat.ModifiedNanoseconds,
            stat.ChangedSeconds * 1_000_000_000 + stat.ChangedNanoseconds,
            stat.Inode);
    }
}
