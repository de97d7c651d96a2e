using Tuning.Trials.Caching;
using Tuning.Trials.Execution;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests;

/// <summary>Cache keys, the cache folder and the one-run-per-key gate.</summary>
public sealed class StepCacheTests() : InTemporaryFolder("tuning-cache-")
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private string Key(string[] command, string? image = null, Dictionary<string, string>? environment = null, Dictionary<string, string>? upstream = null) =>
        StepCacheKey.Compute(command, image, environment ?? NoEnvironment, Root, upstream ?? []);

    [Fact]
    public void The_key_covers_command_image_environment_named_files_and_upstream_keys()
    {
        var script = Path.Combine(Root, "prep.py");
        File.WriteAllText(script, "print(1)");
        string[] command = ["python3", script, "--rows", "10"];
        var key = Key(command);
        Assert.Equal(key, Key(command));
        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.NotEqual(key, Key(["python3", script, "--rows", "11"]));
        Assert.NotEqual(key, Key(command, image: "python:3.12"));
        Assert.NotEqual(key, Key(command, environment: new() { ["SEED"] = "1" }));
        Assert.NotEqual(key, Key(command, upstream: new() { ["fetch"] = "abc" }));
        // Argument boundaries count: ("a b") is not ("a", "b").
        Assert.NotEqual(Key(["sh", "-c", "a b"]), Key(["sh", "-c a", "b"]));

        File.WriteAllText(script, "print(2)");
        Assert.NotEqual(key, Key(command));
    }

    [Fact]
    public void The_tuners_data_folder_inside_the_study_folder_is_never_an_input()
    {
        // `tuner run --data data` from the study folder, and a step that says "data": the store changes with every
        // trial, and its lock cannot be read while the tuner runs.
        var data = Path.Combine(Root, "data");
        Directory.CreateDirectory(Path.Combine(data, "runs"));
        File.WriteAllText(Path.Combine(Root, "prep.py"), "print(1)");
        using var locked = new FileStream(Path.Combine(data, "tuner.lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        string Keyed(string[] command, string folder) => StepCacheKey.Compute(command, null, NoEnvironment, Root, NoEnvironment, dataDirectory: folder);
        string[] namesIt = ["sh", "-c", "echo data > out.txt; python3 prep.py"], namesTheStudy = ["python3", "prep.py", "."], script = ["python3", "prep.py"];
        Assert.Throws<IOException>(() => Key(namesIt));
        var (key, whole) = (Keyed(namesIt, data), Keyed(namesTheStudy, data));
        // A data folder that holds the study folder, or is it, leaves every input in.
        var (holding, same) = (Keyed(script, Path.GetDirectoryName(Root)!), Keyed(script, Root));
        File.WriteAllText(Path.Combine(data, "runs", "trial.log"), "written by a trial");
        Assert.Equal((key, whole), (Keyed(namesIt, data), Keyed(namesTheStudy, data)));
        // What is the study's still counts.
        File.WriteAllText(Path.Combine(Root, "prep.py"), "print(2)");
        Assert.NotEqual(whole, Keyed(namesTheStudy, data));
        Assert.NotEqual(holding, Keyed(script, Path.GetDirectoryName(Root)!));
        Assert.NotEqual(same, Keyed(script, Root));
    }

    [Fact]
    public void Files_named_relatively_after_an_equals_sign_and_inside_named_folders_count_too()
    {
        Directory.CreateDirectory(Path.Combine(Root, "conf", "deep"));
        File.WriteAllText(Path.Combine(Root, "conf", "deep", "a.yaml"), "a: 1");
        File.WriteAllText(Path.Combine(Root, "b.yaml"), "b: 1");
        string[] folder = ["train", Path.Combine(Root, "conf")];
        string[] equals = ["train", "--config=b.yaml"];
        var (folderKey, equalsKey) = (Key(folder), Key(equals));
        File.WriteAllText(Path.Combine(Root, "conf", "deep", "a.yaml"), "a: 2");
        File.WriteAllText(Path.Combine(Root, "b.yaml"), "b: 2");
        Assert.NotEqual(folderKey, Key(folder));
        Assert.NotEqual(equalsKey, Key(equals));
        // Files outside the study folder are not read: they are the machine's, not the study's.
        var outside = Directory.CreateTempSubdirectory("tuning-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "tool"), "1");
            string[] tool = ["sh", Path.Combine(outside, "tool")];
            var toolKey = Key(tool);
            File.WriteAllText(Path.Combine(outside, "tool"), "2");
            Assert.Equal(toolKey, Key(tool));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void An_entry_keeps_its_step_s_logs_by_a_second_name_that_outlives_the_trial_folder()
    {
        var cache = new StepCache(Path.Combine(Root, "cache"));
        var step = Directory.CreateDirectory(Path.Combine(Root, "runs", "0", "s")).FullName;
        File.WriteAllText(Path.Combine(step, "stdout.log"), "objective=1\n");
        var entry = cache.Commit(cache.Begin("k"), "s", "a", 1, new MetricReport(), step);
        var kept = Path.Combine(entry.Folder, "logs", "stdout.log");
        Assert.Equal(FileStat.Of(Path.Combine(step, "stdout.log")).Inode, FileStat.Of(kept).Inode);
        Assert.False(File.Exists(Path.Combine(entry.Folder, "logs", "stderr.log")));
        Directory.Delete(Path.Combine(Root, "runs"), recursive: true);
        Assert.Equal("objective=1\n", File.ReadAllText(kept));
    }

    [Fact]
    public void An_entry_is_visible_only_once_committed_and_prune_removes_by_age_then_by_size()
    {
        var cache = new StepCache(Path.Combine(Root, "cache"));
        var build = cache.Begin("k1");
        File.WriteAllBytes(Path.Combine(build.OutputDirectory, "data"), new byte[5000]);
        Assert.Null(cache.Find("k1"));
        Assert.Empty(cache.List());
        var metrics = new MetricReport();
        metrics.ReadLine("rows=10 nan=nan");
        var entry = cache.Commit(build, "prepare", "study-a", 1.5, metrics, Root);
        // What a commit returns is what a later look-up reads back, but for when it was last used.
        var found = cache.Find("k1")!;
        Assert.Equal((found.Key, found.Step, found.Study, found.Created, found.Seconds, found.Folder),
            (entry.Key, entry.Step, entry.Study, entry.Created, entry.Seconds, entry.Folder));
        Assert.Equal(found.Metrics.Final, entry.Metrics.Final);
        Assert.Equal(found.Contents, entry.Contents);
        Assert.Equal(10, cache.Find("k1")!.Metrics.Final["rows"]);
        Assert.True(double.IsNaN(cache.Find("k1")!.Metrics.Final["nan"]));
        Assert.Equal(("prepare", "study-a", 1.5), (entry.Step, entry.Study, entry.Seconds));
        Assert.True(StepCache.Size(entry) >= 5000);

        var small = cache.Begin("k2");
        cache.Commit(small, "train", "study-a", 1, new MetricReport(), Root);
        // k1 was last used a day ago; k2 just now.
        File.SetLastWriteTimeUtc(Path.Combine(entry.Folder, "entry.json"), DateTime.UtcNow.AddDays(-1));
        Assert.Equal(["k2", "k1"], cache.List().Select(e => e.Key));
        Assert.Empty(cache.Prune(TimeSpan.FromDays(2), null, DateTimeOffset.UtcNow));
        Assert.Equal(["k1"], cache.Prune(TimeSpan.FromHours(1), null, DateTimeOffset.UtcNow).Select(r => r.Entry.Key));
        Assert.Equal(["k2"], cache.List().Select(e => e.Key));
        Assert.Equal(["k2"], cache.Prune(null, 0, DateTimeOffset.UtcNow).Select(r => r.Entry.Key));
        Assert.Empty(cache.List());
    }

    [Fact]
    public void A_second_commit_of_the_same_key_keeps_the_first_entry()
    {
        var cache = new StepCache(Path.Combine(Root, "cache"));
        var (first, second) = (cache.Begin("k"), cache.Begin("k"));
        File.WriteAllText(Path.Combine(first.OutputDirectory, "who"), "first");
        File.WriteAllText(Path.Combine(second.OutputDirectory, "who"), "second");
        cache.Commit(first, "s", "a", 1, new MetricReport(), Root);
        var kept = cache.Commit(second, "s", "a", 1, new MetricReport(), Root);
        Assert.Equal("first", File.ReadAllText(Path.Combine(kept.OutputDirectory, "who")));
        Assert.False(Directory.Exists(second.Folder));
    }

    [Fact]
    public async Task The_gate_gives_one_turn_and_tells_waiters_how_it_ended()
    {
        var gate = new LocalStepRunGate();
        var owner = await gate.EnterAsync("k", CancellationToken.None);
        Assert.Equal(TurnOutcome.YourTurn, owner.Outcome);
        var waiters = Enumerable.Range(0, 3).Select(_ => gate.EnterAsync("k", CancellationToken.None)).ToArray();
        await Task.Delay(50);
        Assert.All(waiters, w => Assert.False(w.IsCompleted));
        await gate.ExitAsync("k", owner.Turn, "exit code 1", abandoned: false);
        Assert.All(await Task.WhenAll(waiters), w => Assert.Equal((TurnOutcome.OtherFailed, "exit code 1"), (w.Outcome, w.Error)));

        // After a failure the next to ask gets a turn again; an abandoned run lets waiters ask again.
        var again = await gate.EnterAsync("k", CancellationToken.None);
        Assert.Equal(TurnOutcome.YourTurn, again.Outcome);
        var waiting = gate.EnterAsync("k", CancellationToken.None);
        await gate.ExitAsync("k", again.Turn, null, abandoned: true);
        Assert.Equal(TurnOutcome.OtherAbandoned, (await waiting).Outcome);
    }

    [Fact]
    public async Task The_gate_gives_no_turn_to_a_caller_already_stopped_nor_once_its_process_stops()
    {
        using var stopping = new CancellationTokenSource();
        var gate = new LocalStepRunGate(stopping.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync("k", new CancellationToken(canceled: true)));

        var owner = await gate.EnterAsync("k", CancellationToken.None);
        Assert.Equal(TurnOutcome.YourTurn, owner.Outcome);
        var waiting = gate.EnterAsync("k", CancellationToken.None);
        // The process stops: its steps are ended, the owner's run among them, given up.
        stopping.Cancel();
        await gate.ExitAsync("k", owner.Turn, null, abandoned: true);
        Assert.Equal(TurnOutcome.OtherAbandoned, (await waiting).Outcome);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync("k", CancellationToken.None));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync("other", CancellationToken.None));
    }

    [Fact]
    public async Task A_turn_whose_owner_goes_silent_is_given_to_the_next_caller()
    {
        var turns = new StepRunTurns();
        var now = DateTime.UtcNow;
        var first = turns.Enter(now, out _)!.Value;
        Assert.Null(turns.Enter(now.AddSeconds(30), out var waiting));
        turns.Renew(first.Turn, now.AddSeconds(50));
        Assert.Null(turns.Enter(now.AddSeconds(100), out _));
        var second = turns.Enter(now.AddSeconds(111), out _);
        Assert.Equal(TurnOutcome.YourTurn, second!.Value.Outcome);
        Assert.Equal(TurnOutcome.OtherAbandoned, (await waiting).Outcome);
        // The silent owner's late exit changes nothing.
        turns.Exit(first.Turn, null, abandoned: false);
        Assert.False(turns.Idle);
    }

    [Fact]
    public void Links_are_hashed_as_links_never_followed_and_hidden_entries_are_not_part_of_the_key()
    {
        var data = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "a.csv"), "1");
        // A loop (data/up -> the study folder) and a link to a device would hang a hash that followed links.
        Directory.CreateSymbolicLink(Path.Combine(data, "up"), Root);
        File.CreateSymbolicLink(Path.Combine(data, "zero"), "/dev/zero");
        string[] command = ["train", data];
        var key = Key(command);
        Directory.CreateDirectory(Path.Combine(data, ".git"));
        File.WriteAllText(Path.Combine(data, ".git", "HEAD"), "ref");
        Assert.Equal(key, Key(command));
        File.WriteAllText(Path.Combine(data, "a.csv"), "2");
        Assert.NotEqual(key, Key(command));
    }

    [Fact]
    public void A_damaged_entry_is_replaced_by_the_next_complete_build()
    {
        var cache = new StepCache(Path.Combine(Root, "cache"));
        Directory.CreateDirectory(Path.Combine(cache.Directory, "k"));
        File.WriteAllText(Path.Combine(cache.Directory, "k", "entry.json"), "{ torn");
        Assert.Null(cache.Find("k"));
        var entry = cache.Commit(cache.Begin("k"), "s", "a", 1, new MetricReport(), Root);
        Assert.Equal("s", cache.Find("k")!.Step);
        Assert.Equal(entry.Folder, cache.Find("k")!.Folder);
    }

    private const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode ReadOnlyFolder = ReadOnlyFile | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Writes into a sealed entry as a careless step would: making the file and its folder writable first (root needs not).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Force(string file, string text)
    {
        File.SetUnixFileMode(Path.GetDirectoryName(file)!, ReadOnlyFolder | UnixFileMode.UserWrite);
        File.SetUnixFileMode(file, ReadOnlyFile | UnixFileMode.UserWrite);
        File.WriteAllText(file, text);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_stored_entry_is_read_only_and_one_whose_contents_changed_is_no_hit_and_is_replaced_by_the_next_build()
    {
        var replaced = new List<string>();
        var cache = new StepCache(Path.Combine(Root, "cache"), replaced.Add);
        var build = cache.Begin("k");
        Directory.CreateDirectory(Path.Combine(build.OutputDirectory, "sub"));
        File.WriteAllText(Path.Combine(build.OutputDirectory, "sub", "data"), "row\n");
        File.WriteAllText(Path.Combine(build.OutputDirectory, "run.sh"), "echo hi");
        File.SetUnixFileMode(Path.Combine(build.OutputDirectory, "run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var entry = cache.Commit(build, "prepare", "a", 1, new MetricReport(), Root);
        var data = Path.Combine(entry.OutputDirectory, "sub", "data");
        Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(data));
        Assert.Equal(ReadOnlyFolder, File.GetUnixFileMode(Path.Combine(entry.OutputDirectory, "run.sh")));
        Assert.Equal(ReadOnlyFolder, File.GetUnixFileMode(Path.Combine(entry.OutputDirectory, "sub")));
        Assert.Equal(ReadOnlyFolder, File.GetUnixFileMode(entry.OutputDirectory));

        // Times and modes alone are no change: the contents are read again and found the same.
        File.SetLastWriteTimeUtc(data, DateTime.UtcNow.AddHours(-1));
        Assert.NotNull(cache.Find("k"));
        // Rewritten at the same size with its modification time given back: the inode-change time still tells.
        var modified = File.GetLastWriteTimeUtc(data);
        Force(data, "ROW\n");
        File.SetLastWriteTimeUtc(data, modified);
        Assert.Null(cache.Find("k"));
        Assert.Empty(replaced);

        var rebuilt = cache.Commit(cache.Begin("k"), "prepare", "b", 1, new MetricReport(), Root);
        Assert.Equal("cache entry k of step 'prepare' (study a) was built again: outputs/sub/data was rewritten (same size, other contents)", Assert.Single(replaced));
        Assert.Equal("b", cache.Find("k")!.Study);
        Assert.Empty(Directory.EnumerateFileSystemEntries(rebuilt.OutputDirectory));

        // Added, grown and removed files are changes too; pruning deletes a sealed entry whole.
        File.SetUnixFileMode(rebuilt.OutputDirectory, ReadOnlyFolder | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(rebuilt.OutputDirectory, "extra"), "");
        Assert.Null(cache.Find("k"));
        Assert.Single(cache.Prune(TimeSpan.Zero, null, DateTimeOffset.UtcNow.AddDays(1)));
        Assert.Empty(cache.List());
        Assert.False(Directory.Exists(rebuilt.Folder));
    }

    [Fact]
    public void A_script_named_inside_a_shell_command_line_is_part_of_the_key()
    {
        File.WriteAllText(Path.Combine(Root, "score.sh"), "echo loss=1");
        File.WriteAllText(Path.Combine(Root, "train.py"), "print(1)");
        File.WriteAllText(Path.Combine(Root, "log.txt"), "");
        // log.txt is written (a redirection target), not read: it changes with every run and is no input.
        string[] mounted = ["sh", "-c", "sh /study/score.sh && cd /study; python3 train.py --fast >> log.txt 2>&1"];
        var key = Key(mounted);
        File.WriteAllText(Path.Combine(Root, "log.txt"), "ran");
        Assert.Equal(key, Key(mounted));
        File.WriteAllText(Path.Combine(Root, "score.sh"), "echo loss=2");
        var edited = Key(mounted);
        Assert.NotEqual(key, edited);
        File.WriteAllText(Path.Combine(Root, "train.py"), "print(2)");
        Assert.NotEqual(edited, Key(mounted));
    }
}
