using System.Text.Json;
using Tuning.Tests.Shared;

namespace Tuning.Api.Tests;

/// <summary>The step cache through the real executable: <c>tuner run</c> twice, an edited script, <c>tuner cache list/prune</c>.</summary>
public sealed class CacheCommandTests() : InTemporaryFolder("tuning-cache-cli-")
{
    private async Task<JsonElement[]> RunStudy(string output)
    {
        var (exit, stdout, stderr) = await Tuner.RunAsync(Root, "run", "study/study.yaml", "--out", output, "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains("steps from cache", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, output, "study.json")));
        return json.RootElement.GetProperty("trials").EnumerateArray().Select(t => t.Clone()).ToArray();
    }

    private static int PrepareRuns(JsonElement[] trials) =>
        trials.Count(t => t.GetProperty("steps").EnumerateArray().Any(s => s.GetProperty("name").GetString() == "prepare" && !s.GetProperty("cached").GetBoolean()));

    [Fact]
    public async Task Prepare_runs_once_per_study_again_only_after_its_script_is_edited_and_the_cache_can_be_listed_and_pruned()
    {
        var source = Path.Combine(Tuner.RepositoryRoot, "experiments", "cached-prepare");
        Directory.CreateDirectory(Path.Combine(Root, "study"));
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(Root, "study", Path.GetFileName(file)));

        var first = await RunStudy("first");
        Assert.Equal(8, first.Length);
        Assert.Equal(1, PrepareRuns(first));
        // A hit is shown as cached with 0 seconds; learning curves are [step, value] pairs.
        var hit = first.SelectMany(t => t.GetProperty("steps").EnumerateArray()).First(s => s.GetProperty("cached").GetBoolean());
        Assert.Equal(0, hit.GetProperty("seconds").GetDouble());
        Assert.All(first, t => Assert.Equal(3, t.GetProperty("intermediate").GetProperty("loss").GetArrayLength()));

        Assert.Equal(0, PrepareRuns(await RunStudy("second")));
        await File.AppendAllTextAsync(Path.Combine(Root, "study", "prepare.sh"), "# edited\n");
        Assert.Equal(1, PrepareRuns(await RunStudy("edited")));

        var (exit, listed, _) = await Tuner.RunAsync(Root, "cache", "list", "--data", "data", "--json");
        Assert.Equal(0, exit);
        using (var entries = JsonDocument.Parse(listed))
        {
            var all = entries.RootElement.EnumerateArray().ToArray();
            // Two prepare entries (before and after the edit) and the train entries of distinct inputs.
            Assert.Equal(2, all.Count(e => e.GetProperty("step").GetString() == "prepare"));
            Assert.All(all, e => Assert.Equal("cached-prepare", e.GetProperty("study").GetString()));
            Assert.All(all, e => Assert.True(e.GetProperty("bytes").GetInt64() > 0));
        }
        var (_, table, _) = await Tuner.RunAsync(Root, "cache", "list", "--data", "data");
        Assert.Contains("prepare", table);

        Assert.Equal(2, (await Tuner.RunAsync(Root, "cache", "prune", "--data", "data")).Exit);
        Assert.Equal(2, (await Tuner.RunAsync(Root, "cache", "prune", "--data", "data", "--older-than", "soon")).Exit);
        Assert.Equal(2, (await Tuner.RunAsync(Root, "cache", "prune", "--data", "data", "--older-than", "7")).Exit);
        var (kept, keptOut, _) = await Tuner.RunAsync(Root, "cache", "prune", "--data", "data", "--older-than", "7d");
        Assert.Equal((0, "Removed 0 entries"), (kept, keptOut.Trim().Split('\n')[^1][..17]));
        var (pruned, prunedOut, _) = await Tuner.RunAsync(Root, "cache", "prune", "--data", "data", "--max-size", "0");
        Assert.Equal(0, pruned);
        Assert.Contains("removed", prunedOut);
        Assert.Contains("is empty", (await Tuner.RunAsync(Root, "cache", "list", "--data", "data")).Out);
    }

    [Fact]
    public async Task A_tuner_killed_while_it_builds_an_entry_leaves_nothing_half_built_and_the_resume_builds_it_once()
    {
        // prepare writes part of its output, then waits for a file that appears only after the kill.
        File.WriteAllText(Path.Combine(Root, "study.yaml"), """
            name: killed-build
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 2, parallelTrials: 2}
            parameters: [{name: x, type: int, min: 0, max: 9}]
            trial:
              steps:
                - name: prepare
                  command: [sh, -c, "echo ran >> ${study.dir}/prepare.count; echo half > ${outputs}/data; while [ ! -e ${study.dir}/go ]; do sleep 0.1; done; echo whole > ${outputs}/data"]
                - name: train
                  dependsOn: [prepare]
                  command: [sh, -c, "test $(cat ${steps.prepare.outputs}/data) = whole && echo objective=${params.x}"]
            """);
        var building = Path.Combine(Root, "data", "cache", ".building");
        using (var first = Tuner.Start(Root, "run", "study.yaml", "--data", "data", "--out", "out"))
        {
            var output = Tuner.Collect(first);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(Directory.Exists(building) && Directory.EnumerateDirectories(building).Any()) && DateTime.UtcNow < deadline && !first.HasExited)
                await Task.Delay(50);
            await Task.Delay(300);
            Assert.False(first.HasExited, "the first run ended before it could be killed:\n" + output);
            Assert.NotEmpty(Directory.EnumerateDirectories(building));
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync();
        }
        // Killed mid-build: the entry is not visible, only its build folder is left.
        Assert.Contains("is empty", (await Tuner.RunAsync(Root, "cache", "list", "--data", "data")).Out);

        File.WriteAllText(Path.Combine(Root, "go"), "");
        var (exit, resumed, error) = await Tuner.RunAsync(Root, "run", "study.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{resumed}\n{error}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(building));
        var (_, listed, _) = await Tuner.RunAsync(Root, "cache", "list", "--data", "data", "--json");
        using var entries = JsonDocument.Parse(listed);
        Assert.Single(entries.RootElement.EnumerateArray(), e => e.GetProperty("step").GetString() == "prepare");
        // Once by the killed run (which two trials waited for), once by the resume: never twice at once.
        Assert.Equal(2, File.ReadAllLines(Path.Combine(Root, "prepare.count")).Length);
    }
}
