using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Tuning.Trials.Execution;

/// <summary>
/// The processes a local step started, found again and ended. Each step runs as the leader of its own process
/// group (through <c>setsid</c>) and carries its step folder in <see cref="MarkerVariable"/>; a descendant that
/// leaves the group (a daemon, <c>setsid</c> of its own) still inherits the marker. So whatever a step started
/// can be ended when the step times out or is cancelled, and after a <c>kill -9</c> of the tuner the next run
/// finds the killed run's processes by group and by marker before it lends their GPUs again.
/// </summary>
public static partial class StepProcesses
{
    /// <summary>Set to the step folder in every step process; descendants inherit it.</summary>
    public const string MarkerVariable = "TUNER_STEP_DIR";

    /// <summary>The file in a step folder that names the step's process group: "PID START-TICKS".</summary>
    public const string RecordFile = "process";

    /// <summary>How long ended processes get between SIGTERM and SIGKILL.</summary>
    public static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(2);

    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary><c>setsid</c>, which makes a step the leader of a new session and process group; null where absent.</summary>
    public static string? SessionLauncher { get; } =
        OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : null;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>A process group as a step folder records it: the leader's id and its start time (which tells a reused id apart).</summary>
    public readonly record struct Group(int Leader, ulong StartTicks)
    {
        public override string ToString() => $"{Leader} {StartTicks}";

        public static Group? Parse(string text)
        {
            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) &&
                   ulong.TryParse(parts[1], CultureInfo.InvariantCulture, out var ticks)
                ? new Group(pid, ticks)
                : null;
        }
    }

    /// <summary>The group a just-started step leads, from <c>/proc</c>; null where it is gone already or not on Linux.</summary>
    public static Group? GroupOf(int pid) => Stat(pid) is { } stat ? new Group(pid, stat.StartTicks) : null;

    /// <summary>Signals a whole process group at once: what a step left running in the background ends with it.</summary>
    public static void KillGroup(Group group) => Kill(-group.Leader, SigKill);

    /// <summary>
    /// Ends every process that carries a marker at or under <paramref name="folder"/>, or belongs to one of
    /// <paramref name="groups"/> and started no earlier than its leader: SIGTERM first, SIGKILL after
    /// <paramref name="grace"/> to whatever is still alive. Returns how many processes it found.
    /// </summary>
    public static async Task<int> EndAsync(string folder, IReadOnlyCollection<Group> groups, TimeSpan grace)
    {
        var found = Find(folder, groups);
        if (found.Count == 0) return 0;
        foreach (var group in groups) Kill(-group.Leader, SigTerm);
        foreach (var pid in found) Kill(pid, SigTerm);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && found.Any(IsAlive)) await Task.Delay(20).ConfigureAwait(false);
        foreach (var group in groups) Kill(-group.Leader, SigKill);
        foreach (var pid in found.Where(IsAlive)) Kill(pid, SigKill);
        return found.Count;
    }

    /// <summary>The groups recorded by the step folders directly in <paramref name="trialFolder"/> (none for any other folder).</summary>
    public static IReadOnlyList<Group> RecordedGroups(string trialFolder)
    {
        if (!Directory.Exists(trialFolder)) return [];
        var groups = new List<Group>();
        foreach (var step in Directory.EnumerateDirectories(trialFolder))
            if (File.Exists(Path.Combine(step, RecordFile)) && Group.Parse(File.ReadAllText(Path.Combine(step, RecordFile))) is { } group)
                groups.Add(group);
        return groups;
    }

    /// <summary>Live processes (not zombies) of this user that are marked under <paramref name="folder"/> or belong to one of the groups.</summary>
    public static List<int> Find(string folder, IReadOnlyCollection<Group> groups)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux()) return found;
        var marker = Encoding.UTF8.GetBytes(MarkerVariable + "=" + Path.TrimEndingDirectorySeparator(folder));
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId) continue;
            if (Stat(pid) is not { Zombie: false } stat) continue;
            if (groups.Any(g => g.Leader == stat.Group && stat.StartTicks >= g.StartTicks) || IsMarked(pid, marker))
                found.Add(pid);
        }
        return found;
    }

    private static bool IsMarked(int pid, byte[] marker)
    {
        byte[] environment;
        try
        {
            environment = File.ReadAllBytes($"/proc/{pid}/environ");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // gone, or another user's
        }
        // Entries are NUL-separated; the marker matches its folder exactly or any folder below it.
        for (var start = 0; start < environment.Length;)
        {
            var end = Array.IndexOf(environment, (byte)0, start);
            if (end < 0) end = environment.Length;
            var entry = environment.AsSpan(start, end - start);
            if (entry.StartsWith(marker) && (entry.Length == marker.Length || entry[marker.Length] == (byte)'/')) return true;
            start = end + 1;
        }
        return false;
    }

    private static bool IsAlive(int pid) => Stat(pid) is { Zombie: false };

    private readonly record struct ProcessStat(int Group, ulong StartTicks, bool Zombie);

    /// <summary>Fields of <c>/proc/PID/stat</c>: after the command name in parentheses, state is field 3, pgrp 5, starttime 22.</summary>
    private static ProcessStat? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 20 ||
            !int.TryParse(fields[2], CultureInfo.InvariantCulture, out var group) ||
            !ulong.TryParse(fields[19], CultureInfo.InvariantCulture, out var start))
            return null;
        return new ProcessStat(group, start, fields[0] is "Z" or "X");
    }
}
