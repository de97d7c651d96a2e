using System.CommandLine;

namespace Tuning.Api.Cli;

/// <summary>Options and checks more than one verb shares.</summary>
public static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "The embedded store and trial folders",
        DefaultValueFactory = _ => ".tuner",
    };

    /// <summary>
    /// One embedded silo per data folder: two would both resume the same studies. The lock is the operating
    /// system's (flock), so a killed process leaves none behind. Null where another process holds it.
    /// </summary>
    public static FileStream? LockDataDirectory(string data)
    {
        // Private: the data folder holds study files, logs and results (0700; the tuner's files in it 0600).
        Trials.PrivateFiles.Folder(data);
        try
        {
            return new FileStream(Path.Combine(data, "tuner.lock"), Trials.PrivateFiles.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The executor a Katib Experiment's trials run on (an Experiment names none: local by default).</summary>
    public static Option<string?> KatibExecutor()
    {
        var option = new Option<string?>("--executor") { Description = "For a Katib Experiment: local (default), container or kubernetes" };
        option.AcceptOnlyFromAmong([.. Trials.Execution.ExecutorCatalog.Names]);
        return option;
    }

    /// <summary>An invalid study file's problems: one is one line; several are listed under a line that counts them.</summary>
    public static void PrintInvalid(string file, Trials.Studies.StudyFileException e)
    {
        if (e.Errors.Count == 1)
            Console.Error.WriteLine($"{file}: {e.Errors[0]}");
        else
        {
            Console.Error.WriteLine($"{file}: invalid study file ({e.Errors.Count} problems):");
            foreach (var error in e.Errors) Console.Error.WriteLine("  " + error);
        }
    }

    public static string InUse(string data) =>
        $"tuner: the data folder {data} is in use by another tuner process; wait for it or pass another --data";
}
