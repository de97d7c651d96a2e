using System.Diagnostics;
using System.Net.Http.Json;
using Tuning.Trials.Execution;
using System.Text.Json;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Api.Tests;

/// <summary>
/// <c>kill -9</c> of the tuner process alone (its step processes live on as orphans), then the same command
/// again: the real executable, real trial processes, a real SQLite store.
/// </summary>
public sealed class ResumeTests() : InTemporaryFolder("tuning-resume-")
{
    [Fact]
    public async Task A_tell_is_taken_after_the_server_was_killed_between_the_ask_and_it()
    {
        File.WriteAllText(Path.Combine(Root, "external.yaml"), AskTellTests.ExternalStudy(trials: 3));
        var url = $"http://127.0.0.1:{Tuning.Tuner.TuningSilo.FreePort()}";
        using var client = new HttpClient { BaseAddress = new Uri(url + "/") };
        async Task<Process> Serve()
        {
            var server = Tuner.Start(Root, "serve", "--urls", url, "--data", Path.Combine(Root, "data"), "--workdir", Root);
            var output = Tuner.Collect(server);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    if ((await client.GetAsync("api/studies")).IsSuccessStatusCode) return server;
                }
                catch (HttpRequestException)
                {
                }
                Assert.True(DateTime.UtcNow < deadline && !server.HasExited, "the server did not start: " + output);
                await Task.Delay(200);
            }
        }
        async Task<JsonElement> Post(string path, HttpContent? body, System.Net.HttpStatusCode expected)
        {
            var response = await client.PostAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} instead of {(int)expected}: {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        HttpContent Tell(JsonElement trial) => JsonContent.Create(new { attempt = trial.GetProperty("attempt").GetString(), metrics = new { loss = 0.5 } });

        string id;
        JsonElement first, second;
        using (var killed = await Serve())
        {
            id = (await Post("api/studies", Server.Yaml(File.ReadAllText(Path.Combine(Root, "external.yaml"))), System.Net.HttpStatusCode.Created)).GetProperty("id").GetString()!;
            first = await Post($"api/studies/{id}/trials", null, System.Net.HttpStatusCode.Created);
            second = await Post($"api/studies/{id}/trials", null, System.Net.HttpStatusCode.Created);
            killed.Kill(entireProcessTree: true);
            await killed.WaitForExitAsync();
        }
        using var restarted = await Serve();
        try
        {
            // Both trials asked before the kill are taken, a retried tell too, and the next ask is a new number.
            await Post($"api/studies/{id}/trials/1/tell", Tell(second), System.Net.HttpStatusCode.OK);
            await Post($"api/studies/{id}/trials/0/tell", Tell(first), System.Net.HttpStatusCode.OK);
            await Post($"api/studies/{id}/trials/0/tell", Tell(first), System.Net.HttpStatusCode.OK);
            var third = await Post($"api/studies/{id}/trials", null, System.Net.HttpStatusCode.Created);
            Assert.Equal(2, third.GetProperty("number").GetInt32());
            await Post($"api/studies/{id}/trials/2/tell", Tell(third), System.Net.HttpStatusCode.OK);
            Assert.Equal("Succeeded", (await Server.WaitForEndAsync(client, id, TimeSpan.FromSeconds(20))).GetProperty("status").GetString());
        }
        finally
        {
            restarted.Kill(entireProcessTree: true);
            await restarted.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("random", "")]
    [InlineData("grid", "")]
    [InlineData("sobol", "")]
    [InlineData("tpe", ", settings: {startupTrials: 5}")]
    [InlineData("bayesian", ", settings: {initialTrials: 4}")]
    public async Task A_study_killed_and_resumed_runs_the_trials_of_an_uninterrupted_one_and_no_process_of_the_old_run_survives(
        string algorithm, string settings)
    {
        const int trials = 12;
        // Each step starts a long child (which a killed run leaves behind) and records its id, lingers, and reports a
        // deterministic objective.
        var yaml = $$"""
            name: resumed
            objective: {metric: objective, goal: minimize}
            algorithm: {name: {{algorithm}}, seed: 11{{settings}}}
            budget: {maxTrials: {{trials}}, parallelTrials: 1}
            parameters:
              - {name: x, type: double, min: 0, max: 1, step: 0.05}
              - {name: k, type: categorical, values: [a, b, c]}
            trial:
              steps:
                - name: s
                  command: [sh, -c, "sleep 30 & echo $! >> ${study.dir}/pids; sleep 0.5; echo ${trial.id} >> ${study.dir}/done.log; echo objective=${params.x}"]
            """;
        File.WriteAllText(Path.Combine(Root, "study.yaml"), yaml);
        var done = Path.Combine(Root, "done.log");
        var pids = Path.Combine(Root, "pids");

        using (var first = Tuner.Start(Root, "run", "study.yaml", "--data", "data", "--out", "out"))
        {
            var output = Tuner.Collect(first);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            // Kill while trial 4 or later is mid-step: it has recorded its process and not finished.
            int Lines(string file) => File.Exists(file) ? File.ReadAllLines(file).Length : 0;
            while ((Lines(done) < 4 || Lines(pids) <= Lines(done)) && DateTime.UtcNow < deadline && !first.HasExited)
                await Task.Delay(10);
            Assert.False(first.HasExited, "the first run ended before it could be killed:\n" + output);
            // The tuner alone: the step it runs now lives on, as after a crash of the tuner.
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync();
        }
        var orphans = File.ReadAllLines(pids).Select(int.Parse).Where(StepProcesses.IsAlive).ToArray();
        Assert.NotEmpty(orphans);

        var (exit, resumed, error) = await Tuner.RunAsync(Root, "run", "study.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{resumed}\n{error}");
        Assert.Contains("Resuming study resumed", resumed);
        Assert.All(orphans, pid => Assert.False(StepProcesses.IsAlive(pid), $"process {pid} of the killed run survived the resume"));

        // What an uninterrupted study gives: trial n is the suggestion for n after trials 0..n-1.
        var spec = StudyFile.Parse(yaml, Root);
        var suggester = AlgorithmCatalog.Find(algorithm)!.Create(spec.Algorithm.Settings, spec.Space, 11, spec.Budget.MaxTrials);
        var observations = new List<Observation>();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var records = json.RootElement.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(trials, records.Length);
        foreach (var record in records)
        {
            Assert.Equal("Succeeded", record.GetProperty("status").GetString());
            var expected = suggester.Suggest(new SuggestionContext(record.GetProperty("number").GetInt32(), observations.ToArray(), []))!;
            var parameters = record.GetProperty("parameters");
            Assert.Equal(expected["x"].Number, parameters.GetProperty("x").GetDouble());
            Assert.Equal(expected["k"].Category, parameters.GetProperty("k").GetString());
            // The objective is the trial's own x: no metric of the killed attempt was read into its rerun.
            Assert.Equal(expected["x"].Number, record.GetProperty("metrics").GetProperty("objective").GetDouble());
            observations.Add(new Observation(expected, expected["x"].Number));
        }
    }

    [Fact]
    public async Task Grid_with_more_parallel_trials_than_points_runs_each_point_once_and_succeeds()
    {
        File.WriteAllText(Path.Combine(Root, "grid.yaml"), """
            name: small-grid
            objective: {metric: objective, goal: minimize}
            algorithm: {name: grid}
            budget: {maxTrials: 20, parallelTrials: 8}
            parameters: [{name: k, type: categorical, values: [a, b, c]}]
            trial:
              steps: [{name: s, command: [sh, -c, "echo objective=1"]}]
            """);
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "grid.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("exhausted", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var points = json.RootElement.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("parameters").GetProperty("k").GetString()!).ToArray();
        Assert.Equal(["a", "b", "c"], points);
    }

    [Fact]
    public async Task Sigterm_ends_the_running_steps_and_leaves_the_study_to_resume()
    {
        File.WriteAllText(Path.Combine(Root, "slow.yaml"), """
            name: slow
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 3, parallelTrials: 3}
            parameters: [{name: x, type: double, min: 0, max: 1}]
            trial:
              steps: [{name: s, command: [sh, -c, "echo $$ >> ${study.dir}/pids; [ -e ${study.dir}/fast ] || sleep 30; echo objective=${params.x}"]}]
            """);
        var pids = Path.Combine(Root, "pids");
        using (var tuner = Tuner.Start(Root, "run", "slow.yaml", "--data", "data", "--out", "out"))
        {
            var output = Tuner.Collect(tuner);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((!File.Exists(pids) || File.ReadAllLines(pids).Length < 3) && DateTime.UtcNow < deadline) await Task.Delay(20);
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", tuner.Id.ToString()])) await kill.WaitForExitAsync();
            await tuner.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(tuner.ExitCode == 130, $"exit {tuner.ExitCode}\n{output}");
            Assert.Contains("run the same command to resume it", output.ToString());
        }
        Assert.All(File.ReadAllLines(pids).Select(int.Parse), pid => Assert.False(StepProcesses.IsAlive(pid), $"step {pid} outlived the tuner"));
        Assert.False(File.Exists(Path.Combine(Root, "out", "study.json")));

        // Resumed, with quick steps now: the interrupted trials run again, none was stored as failed.
        File.WriteAllText(Path.Combine(Root, "fast"), "");
        var (exit, resumed, error) = await Tuner.RunAsync(Root, "run", "slow.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{resumed}\n{error}");
        Assert.Contains("Resuming study slow", resumed);
        Assert.Contains("3/3 done, 0 running, 0 failed", resumed);
    }

    [Fact]
    public async Task A_container_study_killed_and_resumed_leaves_no_container_of_the_killed_run_and_completes()
    {
        await BusyboxImage.EnsureAsync();
        // The first attempt of each trial waits for a file that is written only once the tuner has been killed; the
        // rerun finds it and finishes. A container left by the killed run would keep its name and stop the rerun.
        File.WriteAllText(Path.Combine(Root, "study.yaml"), $$"""
            name: contained
            objective: {metric: objective, goal: minimize}
            algorithm: {name: sobol, seed: 3}
            budget: {maxTrials: 3, parallelTrials: 2}
            parameters: [{name: x, type: int, min: 0, max: 100}]
            trial:
              executor: container
              steps:
                - name: s
                  image: {{BusyboxImage.Name}}
                  command: [sh, -c, "while [ ! -e /study/go ]; do sleep 0.1; done; echo objective=${params.x}"]
            """);
        (string, string)[] engine = [(Trials.Execution.ContainerExecutor.ArgumentsVariable, string.Join(' ', BusyboxImage.EngineArguments))];
        var data = Path.Combine(Root, "data");
        using (var first = Tuner.Start(Root, engine, "run", "study.yaml", "--data", "data", "--out", "out"))
        {
            var output = Tuner.Collect(first);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await Running()).Length < 2 && DateTime.UtcNow < deadline && !first.HasExited) await Task.Delay(100);
            Assert.False(first.HasExited, "the first run ended before it could be killed:\n" + output);
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync();
        }
        var orphans = await Running();
        Assert.Equal(2, orphans.Length);

        File.WriteAllText(Path.Combine(Root, "go"), "");
        var (exit, resumed, error) = await Tuner.RunAsync(Root, engine, "run", "study.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{resumed}\n{error}");
        Assert.Contains("Resuming study contained", resumed);
        Assert.Empty(await Running());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        Assert.All(json.RootElement.GetProperty("trials").EnumerateArray(), t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));

        // The containers of this data folder, of any state: labelled with a step folder under its runs.
        async Task<string[]> Running()
        {
            var found = new List<string>();
            foreach (var trial in Directory.Exists(Path.Combine(data, "runs")) ? Directory.GetDirectories(Path.Combine(data, "runs"), "*", SearchOption.AllDirectories) : [])
                found.AddRange(await BusyboxImage.ContainersAsync(Trials.Execution.ContainerExecutor.FolderLabel, trial));
            return [.. found];
        }
    }
}
