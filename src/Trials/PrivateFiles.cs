namespace Tuning.Trials;

/// <summary>
/// The data folder holds study files, trial logs and the store: its folders are made 0700 and the tuner's own files
/// 0600, so other users of the machine read none of it. (What steps write keeps their own modes, inside those folders.)
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates the folder (and any missing parent) as 0700. An existing folder is tightened only where
    /// <paramref name="tighten"/> says it is the tuner's own (runs, cache), never a folder a user named that holds other things.
    /// </summary>
    public static void Folder(string path, bool tighten = false)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, FolderMode);
        else if (tighten && (File.GetUnixFileMode(path) & ~FolderMode) != 0) File.SetUnixFileMode(path, FolderMode);
    }

    /// <summary>Makes the file 0600: created empty where it is missing, tightened where it exists.</summary>
    public static void File600(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!File.Exists(path))
        {
            var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode };
            try
            {
                using (new FileStream(path, options)) { }
            }
            catch (IOException) when (File.Exists(path))
            {
                // Created meanwhile by another opener: tightened below.
            }
        }
        if ((File.GetUnixFileMode(path) & ~FileMode) != 0) File.SetUnixFileMode(path, FileMode);
    }

    /// <summary>Options that open a file the tuner writes in its data folder: created 0600.</summary>
    public static FileStreamOptions Options(System.IO.FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = FileMode;
        return options;
    }
}
