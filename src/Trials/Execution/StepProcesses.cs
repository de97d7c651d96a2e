using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Tuning.Trials.Execution;

/// <summary>
/// The processes a local step started, found again and ended. Each step runs as the leader of its own session and
/// process group (<see cref="StepProcess"/>) and carries its step folder in <see cref="MarkerVariable"/>; a
/// descendant that leaves the group (a daemon, <c>setsid</c> of its own) still inherits the marker. One that also
/// clears its environment sheds both, so this process is the reaper of whatever its steps orphan
/// (<c>PR_SET_CHILD_SUBREAPER</c>): an escaped descendant becomes a child of the tuner, which it cannot shed, and
/// is ended with the step it escaped from (see <see cref="EscapedFrom"/>). So whatever a step started ends with it,
/// and after a <c>kill -9</c> of the tuner the next run finds the killed run's processes by marker (and by group,
/// while the group's leader lives) before it lends their GPUs again.
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
    /// How the file of a trial folder that records a step's process group ("PID START-TICKS") begins; the step's name
    /// follows. Beside the step folders, not in them, so no step writing its own files can overwrite one, and a file
    /// rather than a folder of them: a folder made per trial cost the tuner about 1% of its CPU at 2,000 trials.
    /// </summary>
    public const string RecordPrefix = ".processes.";

    /// <summary>How long ended processes get between SIGTERM and SIGKILL.</summary>
    public static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(2);

    /// <summary>How many times ending looks again for processes started meanwhile (say, by a TERM trap).</summary>
    private const int EndRounds = 5;

    private const int SigKill = 9;
    private const int SigTerm = 15;

    private const int PrSetChildSubreaper = 36;
    private const int Wnohang = 1;

    /// <summary>
    /// Whether this process adopts what its steps orphan. Set before the first step starts (any use of this class
    /// does), for the life of the process: orphans of every descendant, steps or not, come to this process.
    /// </summary>
    public static bool AdoptsOrphans { get; } = OperatingSystem.IsLinux() && prctl(PrSetChildSubreaper, 1, 0, 0, 0) == 0;

    /// <summary>
    /// The session of this process. Children that <see cref="System.Diagnostics.Process"/> starts stay in it (and
    /// are its to reap); steps and what escapes them never return to it, since a session can only be left.
    /// </summary>
    private static readonly int OwnSession = Stat(System.Environment.ProcessId)?.Session ?? 0;

    /// <summary>The steps whose leaders run (not yet reaped), by leader, with when each was started (clock ticks since boot).</summary>
    private static readonly Dictionary<int, ulong> RunningLeaders = [];

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc")]
    private static unsafe partial int clock_gettime(int clock, long* timespec);

    [LibraryImport("libc")]
    private static partial long sysconf(int name);

    private const int ClockBoottime = 7;
    private const int ScClockTicks = 2;
    private static readonly long ClockTicksPerSecond = OperatingSystem.IsLinux() ? sysconf(ScClockTicks) : 100;

    /// <summary>Now, in the clock ticks since boot that <c>/proc/PID/stat</c> gives start times in.</summary>
    private static unsafe ulong Now()
    {
        var time = stackalloc long[2];
        clock_gettime(ClockBoottime, time);
        return (ulong)(time[0] * ClockTicksPerSecond + time[1] / (1_000_000_000 / ClockTicksPerSecond));
    }

    /// <summary>
    /// Starts a step's leader through <paramref name="spawn"/> and counts it as running from before it exists: no
    /// orphan is judged (<see cref="EscapedFrom"/>) between its start and its being counted.
    /// </summary>
    internal static int StartLeader(Func<int> spawn, out ulong startedAt)
    {
        lock (RunningLeaders)
        {
            startedAt = Now();
            var pid = spawn();
            RunningLeaders[pid] = startedAt;
            return pid;
        }
    }

    /// <summary>A step's leader has exited and been reaped.</summary>
    internal static void LeaderReaped(int pid)
    {
        lock (RunningLeaders) RunningLeaders.Remove(pid);
    }

    /// <summary>
    /// The orphans this process adopted that escaped a step started at <paramref name="stepStartedAt"/> whose
    /// leader (<paramref name="leader"/>) has exited or is being ended; reaps the adopted orphans that have exited.
    /// </summary>
    /// <remarks>
    /// An adopted orphan is a child of this process in a session other than its own that is no running step's
    /// leader: it descends from a step, since the tuner itself starts no daemon (a process that started one beside
    /// its steps, as a test starting <c>podman run -d</c>, would see it taken for a step's). It was started
    /// while the step it came from ran, so by one of the steps running at that moment. It counts as this step's when
    /// it started at or after this step did and no other step still running had started by then (clock ticks are
    /// 10 ms: a tie counts as "had started"). While only one step runs that is exact; with several, an orphan that
    /// any of the running steps could have started is left to the end of the last of them, and never ended early.
    /// </remarks>
    public static List<int> EscapedFrom(int leader, ulong stepStartedAt) => Adopted(leader, stepStartedAt, ownedByRunningSteps: false);

    /// <summary>
    /// The adopted orphans started at or after <paramref name="stepStartedAt"/>, those a running step other than
    /// <paramref name="leader"/>'s could have started included where <paramref name="ownedByRunningSteps"/>.
    /// </summary>
    private static List<int> Adopted(int leader, ulong stepStartedAt, bool ownedByRunningSteps)
    {
        var escaped = new List<int>();
        if (!AdoptsOrphans) return escaped;
        lock (RunningLeaders)
            foreach (var child in Children())
            {
                if (child == leader || RunningLeaders.ContainsKey(child)) continue;
                if (Stat(child) is not { } stat || stat.Session == OwnSession) continue;
                if (stat.Zombie)
                {
                    Reap(child);
                    continue;
                }
                if (stat.StartTicks >= stepStartedAt && (ownedByRunningSteps || !RunningLeaders.Any(r => r.Key != leader && r.Value <= stat.StartTicks)))
                    escaped.Add(child);
            }
        return escaped;
    }

    private static unsafe void Reap(int pid)
    {
        int status;
        waitpid(pid, &status, Wnohang);
    }

    /// <summary>
    /// The orphans this process adopted, with the children its main thread started: the main thread's
    /// <c>children</c> list. The kernel hands an orphan to the first live thread of the subreaper, which is the main
    /// thread while the process runs, so the other threads' lists hold only children they started themselves (steps,
    /// which are known). Reading one list where every thread's was read saved about 27 file reads a step.
    /// </summary>
    private static IEnumerable<int> Children()
    {
        string children;
        try
        {
            children = File.ReadAllText(MainThreadChildren);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (var pid in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            yield return int.Parse(pid, CultureInfo.InvariantCulture);
    }

    private static readonly string MainThreadChildren = $"/proc/self/task/{System.Environment.ProcessId}/children";

    /// <summary>
    /// Whether a step whose leader has exited may have left anything running: a process in its group, or an orphan
    /// started since it started (its own, or one a step still running may have started: which, its marker may tell).
    /// Cheap (no scan of every process), so a step that left nothing is not searched for.
    /// </summary>
    public static bool LeftBehind(Group group, ulong stepStartedAt) =>
        !AdoptsOrphans || Kill(-group.Leader, 0) == 0 || Marshal.GetLastPInvokeError() != Esrch
        || Adopted(group.Leader, stepStartedAt, ownedByRunningSteps: true).Count > 0;

    private const int Esrch = 3;

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
        var path = Path.Combine(Path.GetDirectoryName(stepDirectory)!, RecordPrefix + Path.GetFileName(stepDirectory));
        using var record = new StreamWriter(new FileStream(path, PrivateFiles.Options(FileMode.Create, FileAccess.Write, FileShare.None)));
        record.Write(group.ToString());
    }

    /// <summary>
    /// The groups earlier attempts recorded in <paramref name="trialFolder"/> whose leaders still run (same id,
    /// same start time): a group whose leader is gone is not trusted, since its id may be another's by now.
    /// </summary>
    public static IReadOnlyList<Group> LiveRecordedGroups(string trialFolder)
    {
        if (!Directory.Exists(trialFolder)) return [];
        var groups = new List<Group>();
        foreach (var record in Directory.EnumerateFiles(trialFolder, RecordPrefix + "*"))
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
    /// <remarks>
    /// With <paramref name="escapedFrom"/> (a step's leader and when it was started), the orphans escaped from that
    /// step (<see cref="EscapedFrom"/>) and their descendants are ended too.
    /// </remarks>
    public static async Task<int> EndAsync(string folder, IReadOnlyCollection<Group> groups, TimeSpan grace, ulong startedAfter = 0, Owners owners = Owners.Any,
        (int Leader, ulong StartedAt)? escapedFrom = null)
    {
        var ended = 0;
        for (var round = 0; round < EndRounds; round++)
        {
            var escaped = escapedFrom is var (leader, startedAt) ? EscapedFrom(leader, startedAt) : [];
            var found = Find(folder, groups, startedAfter, owners, escaped);
            if (found.Count == 0) break;
            ended += found.Count;
            foreach (var pid in found) Kill(pid, SigTerm);
            var deadline = DateTime.UtcNow + grace;
            while (DateTime.UtcNow < deadline && found.Any(IsAlive)) await Task.Delay(20).ConfigureAwait(false);
            foreach (var pid in found.Where(IsAlive)) Kill(pid, SigKill);
            // Later rounds kill at once: what is started while being ended gets no second grace.
            grace = TimeSpan.Zero;
        }
        // What was ended and adopted is a zombie of this process now: reaped here, so none piles up.
        if (escapedFrom is var (endedLeader, endedAt)) EscapedFrom(endedLeader, endedAt);
        return ended;
    }

    /// <summary>
    /// Live processes (not zombies) of this user that are marked under <paramref name="folder"/>, belong to one of
    /// the groups, or are among <paramref name="escaped"/> or descend from one of them.
    /// </summary>
    public static List<int> Find(string folder, IReadOnlyCollection<Group> groups, ulong startedAfter = 0, Owners owners = Owners.Any, IReadOnlyCollection<int>? escaped = null)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux()) return found;
        var marker = Encoding.UTF8.GetBytes(MarkerVariable + "=" + Path.TrimEndingDirectorySeparator(folder));
        var others = new List<(int Pid, int Parent)>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid) || pid <= 1 || pid == System.Environment.ProcessId) continue;
            if (Stat(pid) is not { Zombie: false } stat || stat.StartTicks < startedAfter) continue;
            if (groups.Any(g => g.Leader == stat.Group && stat.StartTicks >= g.StartTicks) || (IsMarked(pid, marker) && OwnedAs(pid, owners)) || escaped?.Contains(pid) == true)
                found.Add(pid);
            else
                others.Add((pid, stat.Parent));
        }
        if (escaped is { Count: > 0 }) found.AddRange(Descendants(escaped, others));
        return found;
    }

    /// <summary>Those of <paramref name="candidates"/> that descend from one of <paramref name="roots"/>.</summary>
    private static IEnumerable<int> Descendants(IReadOnlyCollection<int> roots, List<(int Pid, int Parent)> candidates)
    {
        var tree = new HashSet<int>(roots);
        for (var added = true; added;)
        {
            added = false;
            foreach (var (pid, parent) in candidates)
                if (tree.Contains(parent) && tree.Add(pid))
                {
                    added = true;
                    yield return pid;
                }
        }
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

    private readonly record struct ProcessStat(int Parent, int Group, int Session, ulong StartTicks, bool Zombie);

    /// <summary>
    /// Fields of <c>/proc/PID/stat</c>: after the command name in parentheses, state is field 3, ppid 4, pgrp 5,
    /// session 6, starttime 22.
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
        // Fields from the state on, separated by single spaces: state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
        long parent = -1, group = -1, session = -1;
        ulong start = 0;
        var field = 3;
        var rest = text[afterName..];
        while (field <= 22)
        {
            var space = rest.IndexOf((byte)' ');
            var token = space < 0 ? rest : rest[..space];
            if (field == 4 && !System.Buffers.Text.Utf8Parser.TryParse(token, out parent, out _)) return null;
            if (field == 5 && !System.Buffers.Text.Utf8Parser.TryParse(token, out group, out _)) return null;
            if (field == 6 && !System.Buffers.Text.Utf8Parser.TryParse(token, out session, out _)) return null;
            if (field == 22 && !System.Buffers.Text.Utf8Parser.TryParse(token, out start, out _)) return null;
            if (space < 0) break;
            rest = rest[(space + 1)..];
            field++;
        }
        return field < 22 ? null : new ProcessStat((int)parent, (int)group, (int)session, start, state is (byte)'Z' or (byte)'X');
    }
}
