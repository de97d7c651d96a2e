using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Tuning.Trials.Execution;

/// <summary>
/// The processes a local step started, found again and ended. Each step runs as the leader of its own process
/// group (through <c>setsid</c>) and carries its step folder in <see cref="MarkerVariable"/>; a descendant that
/// leaves the group (a daemon, <c>setsid</c> of its own) still inherits the marker. So whatever a step started
/// ends with it, and after a <c>kill -9</c> of the tuner the next run finds the killed run's processes by marker
/// (and by group, while the group's leader lives) before it lends their GPUs again.
/// </summary>
public static partial class StepProcesses
{
    /// <summary>Set to the step folder in every step process; descendants inherit it.</summary>
    public const string MarkerVariable = "TUNER_STEP_DIR";

    /// <summary>
    /// Set to the tuner process that started the step ("PID START-TICKS"): where several tuners share a data folder
    /// (a cluster's silos on one machine), each ends only its own steps, and at start only those whose tuner is dead.
    /// </summary>
    public const string OwnerVariable = "TUNER_OWNER";

    /// <summary>This process, as <see cref="OwnerVariable"/> names it.</summary>
    public static string Self { get; } = GroupOf(System.Environment.ProcessId)?.ToString() ?? $"{System.Environment.ProcessId} 0";

    /// <summary>Which marked processes to end, by the tuner that started them (null: none recorded).</summary>
    public enum Owners { Any, Dead, Self }

    /// <summary>
    /// The folder of a trial folder where each step's process group is recorded ("PID START-TICKS" in a file named
    /// after the step): beside the step folders, not in them, so no step writing its own files can overwrite one.
    /// </summary>
    public const string RecordFolder = ".processes";

    /// <summary>How long ended processes get between SIGTERM and SIGKILL.</summary>
    public static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(2);

    /// <summary>How many times ending looks again for processes started meanwhile (say, by a TERM trap).</summary>
    private const int EndRounds = 5;

    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary><c>setsid</c>, which makes a step the leader of a new session and process group; null where absent.</summary>
    public static string? SessionLauncher { get; } =
        OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : null;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>A process group: its leader's id and start time, which tells the leader apart from a later process reusing its id.</summary>
    public readonly record struct Group(int Leader, ulong StartTicks)
    {
        public override string ToString() => $"{Leader} {StartTicks}";

        public static Group? Parse(string text)
        {
            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) && pid > 1 &&
                   ulong.TryParse(parts[1], CultureInfo.InvariantCulture, out var ticks)
                ? new Group(pid, ticks)
                : null;
        }
    }

    /// <summary>The group a just-started step leads, from <c>/proc</c>; null where it is gone already or not on Linux.</summary>
    public static Group? GroupOf(int pid) => Stat(pid) is { } stat ? new Group(pid, stat.StartTicks) : null;

    /// <summary>Records a step's group in its trial folder, for a later run to find if this one is killed.</summary>
    public static void Record(string stepDirectory, Group group)
    {
        var folder = Path.Combine(Path.GetDirectoryName(stepDirectory)!, RecordFolder);
        Directory.CreateDirectory(folder);
        using var record = new StreamWriter(new FileStream(Path.Combine(folder, Path.GetFileName(stepDirectory)), PrivateFiles.Options(FileMode.Create, FileAccess.Write, FileShare.None)));
        record.Write(group.ToString());
    }

    /// <summary>
    /// The groups earlier attempts recorded in <paramref name="trialFolder"/> whose leaders still run (same id,
    /// same start time): a group whose leader is gone is not trusted, since its id may be another's by now.
    /// </summary>
    public static IReadOnlyList<Group> LiveRecordedGroups(string trialFolder)
    {
        var folder = Path.Combine(trialFolder, RecordFolder);
        if (!Directory.Exists(folder)) return [];
        var groups = new List<Group>();
        foreach (var record in Directory.EnumerateFiles(folder))
            if (Group.Parse(File.ReadAllText(record)) is { } group && Stat(group.Leader) is { Zombie: false } stat && stat.StartTicks == group.StartTicks)
                groups.Add(group);
        return groups;
    }

    /// <summary>
    /// Ends every process that carries a marker at or under <paramref name="folder"/>, or belongs to one of
    /// <paramref name="groups"/>: SIGTERM first, SIGKILL after <paramref name="grace"/> to whatever is still
    /// alive, and again for processes started meanwhile, until none is left. Only processes started at or after
    /// <paramref name="startedAfter"/> (clock ticks since boot) are looked at. Returns how many it ended.
    /// </summary>
    public static async Task<int> EndAsync(string folder, IReadOnlyCollection<Group> groups, TimeSpan grace, ulong startedAfter = 0, Owners owners = Owners.Any)
    {
        var ended = 0;
        for (var round = 0; round < EndRounds; round++)
        {
            var found = Find(folder, groups, startedAfter, owners);
            if (found.Count == 0) break;
            ended += found.Count;
            foreach (var pid in found) Kill(pid, SigTerm);
            var deadline = DateTime.UtcNow + grace;
            while (DateTime.UtcNow < deadline && found.Any(IsAlive)) await Task.Delay(20).ConfigureAwait(false);
            foreach (var pid in found.Where(IsAlive)) Kill(pid, SigKill);
            // Later rounds kill at once: what is started while being ended gets no second grace.
            grace = TimeSpan.Zero;
        }
        return ended;
    }

    /// <summary>Live processes (not zombies) of this user that are marked under <paramref name="folder"/> or belong to one of the groups.</summary>
    public static List<int> Find(string folder, IReadOnlyCollection<Group> groups, ulong startedAfter = 0, Owners owners = Owners.Any)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux()) return found;
        var marker = Encoding.UTF8.GetBytes(MarkerVariable + "=" + Path.TrimEndingDirectorySeparator(folder));
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid) || pid <= 1 || pid == System.Environment.ProcessId) continue;
            if (Stat(pid) is not { Zombie: false } stat || stat.StartTicks < startedAfter) continue;
            if (groups.Any(g => g.Leader == stat.Group && stat.StartTicks >= g.StartTicks) || (IsMarked(pid, marker) && OwnedAs(pid, owners)))
                found.Add(pid);
        }
        return found;
    }

    private static bool IsMarked(int pid, byte[] marker) =>
        Environment(pid).Any(entry => entry.StartsWith(marker) && (entry.Length == marker.Length || entry[marker.Length] == (byte)'/'));

    /// <summary>Whether the tuner that started the process is among <paramref name="owners"/>; a process that names none is anyone's.</summary>
    private static bool OwnedAs(int pid, Owners owners)
    {
        if (owners == Owners.Any) return true;
        var prefix = Encoding.UTF8.GetBytes(OwnerVariable + "=");
        var entry = Environment(pid).FirstOrDefault(e => e.StartsWith(prefix));
        var owner = entry is null ? null : Encoding.UTF8.GetString(entry.AsSpan(prefix.Length));
        if (owners == Owners.Self) return owner == Self;
        // Dead: no recorded owner, or its process is gone (same id and start time, or the id is another's by now).
        return owner is null || Group.Parse(owner) is not { } recorded || Stat(recorded.Leader) is not { Zombie: false } stat || stat.StartTicks != recorded.StartTicks;
    }

    /// <summary>The NUL-separated entries of a process's environment; none where it is gone or another user's.</summary>
    private static IEnumerable<byte[]> Environment(int pid)
    {
        byte[] environment;
        try
        {
            environment = File.ReadAllBytes($"/proc/{pid}/environ");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        for (var start = 0; start < environment.Length;)
        {
            var end = Array.IndexOf(environment, (byte)0, start);
            if (end < 0) end = environment.Length;
            yield return environment[start..end];
            start = end + 1;
        }
    }

    /// <summary>
    /// Whether any other process still holds one of these pipes (the read ends of a step's output): a pipe no other
    /// process holds has no writer left, so reading it comes to its end. Where this cannot be told (not Linux, not a
    /// pipe), it answers yes, so a caller does not wait on it.
    /// </summary>
    public static bool WrittenByOthers(params Stream[] pipes)
    {
        if (!OperatingSystem.IsLinux()) return true;
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pipe in pipes)
        {
            if (pipe is not System.IO.Pipes.PipeStream { SafePipeHandle: var handle } || LinkTarget($"/proc/self/fd/{handle.DangerousGetHandle()}") is not { } target)
                return true;
            wanted.Add(target); // "pipe:[INODE]", the same for both ends of one pipe
        }
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid) || pid == System.Environment.ProcessId) continue;
            IEnumerable<string> descriptors;
            try
            {
                descriptors = Directory.EnumerateFiles(Path.Combine(entry, "fd")).ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone, or another user's, which cannot hold our pipes; one of ours we may not look into (made
                // non-dumpable, like ssh-agent) might, so it counts as holding them.
                if (Uid(pid) is { } uid && uid == Uid(System.Environment.ProcessId)) return true;
                continue;
            }
            if (descriptors.Any(fd => LinkTarget(fd) is { } target && wanted.Contains(target))) return true;
        }
        return false;
    }

    /// <summary>The real user id a process runs as, from <c>/proc/PID/status</c>; null where it is gone.</summary>
    private static string? Uid(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/status").FirstOrDefault(line => line.StartsWith("Uid:", StringComparison.Ordinal))
                ?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether the process runs (a zombie, dead but not yet reaped, does not).</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { Zombie: false };

    private readonly record struct ProcessStat(int Group, ulong StartTicks, bool Zombie);

    /// <summary>
    /// Fields of <c>/proc/PID/stat</c>: after the command name in parentheses, state is field 3, pgrp 5, starttime 22.
    /// Read into a stack buffer and parsed as bytes: every step's end reads one per process on the machine.
    /// </summary>
    private static ProcessStat? Stat(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        int length;
        try
        {
            using var handle = File.OpenHandle($"/proc/{pid}/stat", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var text = buffer[..length];
        var afterName = text.LastIndexOf((byte)')') + 2;
        if (afterName < 2 || afterName >= text.Length) return null;
        var state = text[afterName];
        // Fields from the state on, separated by single spaces: state(3) ppid(4) pgrp(5) ... starttime(22).
        long group = -1;
        ulong start = 0;
        var field = 3;
        var rest = text[afterName..];
        while (field <= 22)
        {
            var space = rest.IndexOf((byte)' ');
            var token = space < 0 ? rest : rest[..space];
            if (field == 5 && !System.Buffers.Text.Utf8Parser.TryParse(token, out group, out _)) return null;
            if (field == 22 && !System.Buffers.Text.Utf8Parser.TryParse(token, out start, out _)) return null;
            if (space < 0) break;
            rest = rest[(space + 1)..];
            field++;
        }
        return field < 22 ? null : new ProcessStat((int)group, start, state is (byte)'Z' or (byte)'X');
    }
}
