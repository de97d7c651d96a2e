using System.Text.Json;
using Tuning.Tests.Shared;

namespace Tuning.Api.Tests;

/// <summary><c>tuner run</c> end to end: the real executable, real trial processes, a real SQLite store.</summary>
public sealed class RunCommandTests() : InTemporaryFolder("tuning-run-")
{
    [Fact]
    public async Task The_quickstart_succeeds_with_30_trials_and_names_the_real_best()
    {
        var study = Path.Combine(Tuner.RepositoryRoot, "experiments", "quickstart", "study.yaml");
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", study, "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("Best trial", output);
        // The plots go into the --out folder beside study.json, as SVG documents.
        Assert.All(Reports.Plots.Kinds, kind => Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(Root, "out", kind + ".svg"))));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var root = json.RootElement;
        Assert.Equal("quickstart", root.GetProperty("name").GetString());
        Assert.Equal("Succeeded", root.GetProperty("status").GetString());
        Assert.Equal("minimize", root.GetProperty("objective").GetProperty("goal").GetString());
        var trials = root.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(30, trials.Length);
        Assert.All(trials, t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));
        Assert.All(trials, t => Assert.Equal(JsonValueKind.Number, t.GetProperty("parameters").GetProperty("x1").ValueKind));
        Assert.All(trials, t => Assert.Equal("branin", t.GetProperty("steps")[0].GetProperty("name").GetString()));
        // One unconstrained objective: no front, no feasibility, study.json as before several objectives came.
        Assert.False(root.TryGetProperty("paretoTrials", out _));
        Assert.All(trials, t => Assert.False(t.TryGetProperty("feasible", out _)));
        Assert.All(Reports.Plots.ParetoKinds, kind => Assert.False(File.Exists(Path.Combine(Root, "out", kind + ".svg"))));
        var best = trials.MinBy(t => t.GetProperty("metrics").GetProperty("objective").GetDouble());
        Assert.Equal(best.GetProperty("number").GetInt32(), root.GetProperty("bestTrial").GetProperty("number").GetInt32());
        // Each trial reports Branin at its own parameters: nothing is mixed up between trials on the way.
        Assert.All(trials, t =>
        {
            var (x1, x2) = (t.GetProperty("parameters").GetProperty("x1").GetDouble(), t.GetProperty("parameters").GetProperty("x2").GetDouble());
            var branin = Math.Pow(x2 - 5.1 / (4 * Math.PI * Math.PI) * x1 * x1 + 5 / Math.PI * x1 - 6, 2) + 10 * (1 - 1 / (8 * Math.PI)) * Math.Cos(x1) + 10;
            Assert.Equal(branin, t.GetProperty("metrics").GetProperty("objective").GetDouble(), branin * 1e-6);
        });
    }

    [Fact]
    public async Task A_bayesian_study_runs_through_tuner_run_and_closes_in_on_the_optimum()
    {
        var study = Path.Combine(Tuner.RepositoryRoot, "experiments", "branin-gp", "study.yaml");
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", study, "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var trials = json.RootElement.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal("Succeeded", json.RootElement.GetProperty("status").GetString());
        // Reaching the target cancels the trial still running beside the one that reached it.
        Assert.All(trials, t => Assert.Contains(t.GetProperty("status").GetString(), new[] { "Succeeded", "Cancelled" }));
        Assert.Equal(trials.Length, trials.Select(t => t.GetProperty("parameters").ToString()).Distinct().Count());
        // Random search's median best after 40 Branin trials is about 0.9; the model must do far better.
        Assert.InRange(json.RootElement.GetProperty("bestTrial").GetProperty("metrics").GetProperty("objective").GetDouble(), 0.397887, 0.45);
    }

    /// <summary>
    /// x = 0..4 gives (a, b) = (x, (4 - x)²), each trading one objective for the other, and memory 100·x: x = 4 breaks
    /// memory &lt;= 300. The reference derived from the feasible trials is a's worst 3 plus 0.3 and b's worst 16 plus 1.5,
    /// and the front's staircase under it holds 28.45.
    /// </summary>
    internal const string TwoObjectives = """
        name: front
        objectives: [{metric: a, goal: minimize}, {metric: b, goal: minimize}]
        constraints: [{metric: memory, max: 300}]
        algorithm: {name: grid}
        budget: {maxTrials: 5}
        parameters: [{name: x, type: int, min: 0, max: 4}]
        trial:
          steps:
            - {name: s, command: [sh, -c, 'echo a=$0 b=$(( (4 - $0) * (4 - $0) )) memory=$(( 100 * $0 ))', "${params.x}"]}
        """;

    [Fact]
    public async Task A_study_of_two_objectives_and_a_constraint_reports_its_front_feasibility_and_hypervolume()
    {
        File.WriteAllText(Path.Combine(Root, "front.yaml"), TwoObjectives);
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "front.yaml", "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("Pareto front: 4 trials, hypervolume 28.45 against (a=3.3, b=17.5, derived from the trials)", output);
        Assert.Contains("  trial 2: a=2, b=4; x = 2", output);
        Assert.All(Reports.Plots.ParetoKinds, kind => Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(Root, "out", kind + ".svg"))));
        Assert.Contains("infeasible", File.ReadAllText(Path.Combine(Root, "out", "pareto-front.svg")));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var root = json.RootElement;
        Assert.Equal([0, 1, 2, 3], root.GetProperty("paretoTrials").EnumerateArray().Select(t => t.GetProperty("number").GetInt32()));
        Assert.Equal([true, true, true, true, false], root.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("feasible").GetBoolean()));
        var hypervolume = root.GetProperty("hypervolume");
        Assert.Equal(28.45, hypervolume.GetProperty("value").GetDouble(), 9);
        Assert.Equal([true, true], hypervolume.GetProperty("referenceDerived").EnumerateArray().Select(d => d.GetBoolean()));
    }

    [Fact]
    public async Task A_steps_budget_ends_the_run_and_its_progress_and_study_json_show_the_steps_spent()
    {
        File.WriteAllText(Path.Combine(Root, "study.yaml"), """
            name: budget-run
            objective: {metric: objective, goal: minimize}
            algorithm: {name: random, seed: 3}
            budget: {maxTrials: 50, parallelTrials: 2, maxSteps: 12}
            parameters: [{name: x, type: double, min: 0, max: 10}]
            trial: {steps: [{name: train, command: [sh, -c, "for e in 1 2 3 4 5; do echo epoch=$e objective=${params.x}; sleep 0.1; done"]}]}
            """);
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "study.yaml", "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Matches(@"Succeeded: \d+/50 done, 0 running, 0 failed, 1[2-4]/12 steps", output);
        Assert.Contains("Study budget-run Succeeded: stopped by the budget: 1", output);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var resources = json.RootElement.GetProperty("resources");
        Assert.InRange(resources.GetProperty("steps").GetInt64(), 12, 14);
        Assert.Equal(12, resources.GetProperty("maxSteps").GetInt64());
        Assert.Equal(JsonValueKind.Null, resources.GetProperty("maxSeconds").ValueKind);
        Assert.True(resources.GetProperty("seconds").GetDouble() > 0);
        var cancelled = json.RootElement.GetProperty("trials").EnumerateArray().Where(t => t.GetProperty("status").GetString() == "Cancelled").ToArray();
        Assert.NotEmpty(cancelled);
        Assert.All(cancelled, t => Assert.StartsWith("the study ended: stopped by the budget", t.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task An_invalid_study_file_exits_2_names_each_field_and_runs_nothing()
    {
        File.WriteAllText(Path.Combine(Root, "bad.yaml"), """
            name: bad
            objective: {metric: objective, goal: sideways}
            budget: {maxTrials: 0}
            parameters:
              - {name: x, type: double, min: 2, max: 1}
            trial:
              steps: []
            """);
        var (exit, _, error) = await Tuner.RunAsync(Root, "run", "bad.yaml", "--data", "data");
        Assert.Equal(2, exit);
        Assert.Contains("objective.goal (line 2", error);
        Assert.Contains("budget.maxTrials", error);
        Assert.Contains("parameters[0] (x).min", error);
        Assert.Contains("trial.steps", error);
        Assert.False(Directory.Exists(Path.Combine(Root, "data")));
    }

    [Fact]
    public async Task A_data_folder_in_use_by_another_run_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(Root, "data"));
        using var held = new FileStream(Path.Combine(Root, "data", "tuner.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var study = Path.Combine(Tuner.RepositoryRoot, "experiments", "quickstart", "study.yaml");
        var (exit, _, error) = await Tuner.RunAsync(Root, "run", study, "--data", "data");
        Assert.Equal(1, exit);
        Assert.Contains("in use by another tuner", error);
    }

    [Fact]
    public async Task A_study_needing_more_gpus_than_the_machine_lends_is_refused_before_it_runs()
    {
        var study = Path.Combine(Tuner.RepositoryRoot, "experiments", "gpu-mlp", "study.yaml");
        var (exit, _, error) = await Tuner.RunAsync(Root, [("TUNER_GPUS", "none")], "run", study, "--data", "data", "--out", "out");
        Assert.Equal(1, exit);
        Assert.Contains("needs 1 GPU and this machine lends 0", error);
        Assert.False(File.Exists(Path.Combine(Root, "out", "study.json")));
    }

    [Fact]
    public async Task A_failed_study_exits_1_with_the_reason()
    {
        File.WriteAllText(Path.Combine(Root, "failing.yaml"), """
            name: failing
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 5, maxFailedTrials: 1}
            parameters: [{name: x, type: int, min: 0, max: 3}]
            trial:
              steps: [{name: s, command: [sh, -c, "echo nothing useful"]}]
            """);
        var (exit, output, _) = await Tuner.RunAsync(Root, "run", "failing.yaml", "--data", "data", "--out", "out");
        Assert.Equal(1, exit);
        Assert.Contains("Failed", output);
        Assert.Contains("maxFailedTrials", output);
        Assert.True(File.Exists(Path.Combine(Root, "out", "study.json")));
    }

    [Fact]
    public async Task A_killed_run_resumes_without_losing_or_repeating_completed_trials()
    {
        const int trials = 12;
        File.WriteAllText(Path.Combine(Root, "slow.yaml"), $$"""
            name: slow
            objective: {metric: objective, goal: minimize}
            algorithm: {name: random, seed: 3}
            budget: {maxTrials: {{trials}}, parallelTrials: 2}
            parameters: [{name: x, type: double, min: 0, max: 1}]
            trial:
              steps:
                - name: s
                  command: [sh, -c, "sleep 0.4; echo ${trial.id} >> ${study.dir}/done.log; echo objective=${params.x}"]
            """);
        var done = Path.Combine(Root, "done.log");

        using (var first = Tuner.Start(Root, "run", "slow.yaml", "--data", "data", "--out", "out"))
        {
            var output = Tuner.Collect(first);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((!File.Exists(done) || File.ReadAllLines(done).Length < 4) && DateTime.UtcNow < deadline && !first.HasExited)
                await Task.Delay(20);
            Assert.False(first.HasExited, "the first run ended before it could be killed:\n" + output);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }
        var finishedBeforeKill = File.ReadAllLines(done).Length;
        Assert.False(File.Exists(Path.Combine(Root, "out", "study.json")));

        var (exit, resumed, error) = await Tuner.RunAsync(Root, "run", "slow.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{resumed}\n{error}");
        Assert.Contains("Resuming study slow", resumed);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var records = json.RootElement.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Range(0, trials), records.Select(t => t.GetProperty("number").GetInt32()));
        Assert.All(records, t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));
        // Each trial ran once, except the (at most parallelTrials) that were running at the kill and ran again.
        var runs = File.ReadAllLines(done);
        Assert.Equal(trials, runs.Distinct().Count());
        Assert.InRange(runs.Length, trials, trials + 2);
        Assert.True(finishedBeforeKill >= 4);
    }

    [Fact]
    public async Task With_a_noisy_metric_study_json_recommends_a_good_trial_beside_the_lucky_best()
    {
        // −(x − 0.5)², maximised, on a grid of 21 points, observed with a fixed irregular noise; at x = 0.9 a lucky
        // draw reports far above its neighbours and is the best observed trial.
        File.WriteAllText(Path.Combine(Root, "noisy.yaml"), """
            name: noisy
            objective: {metric: objective, goal: maximize}
            algorithm: {name: grid}
            budget: {maxTrials: 21, parallelTrials: 4}
            parameters: [{name: x, type: double, min: 0, max: 1, step: 0.05}]
            trial:
              steps:
                - name: s
                  command: [sh, -c, "awk -v x=${params.x} 'BEGIN { i = int(x * 20 + 0.5); printf \"objective=%.6f\\n\", -(x - 0.5)^2 + 0.05 * sin(41 * i) + (i == 18 ? 0.4 : 0) }'"]
            """);
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "noisy.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var root = json.RootElement;
        var trials = root.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(21, trials.Length);
        var best = root.GetProperty("bestTrial");
        var recommended = root.GetProperty("recommendedTrial");
        // The same shape as bestTrial, and a succeeded trial's own id, number, parameters and metrics.
        Assert.Equal(["id", "number", "parameters", "metrics"], recommended.EnumerateObject().Select(p => p.Name));
        Assert.Equal(best.EnumerateObject().Select(p => p.Name), recommended.EnumerateObject().Select(p => p.Name));
        var trial = Assert.Single(trials, t => t.GetProperty("id").GetString() == recommended.GetProperty("id").GetString());
        Assert.Equal("Succeeded", trial.GetProperty("status").GetString());
        foreach (var field in new[] { "number", "parameters", "metrics" })
            Assert.True(JsonElement.DeepEquals(trial.GetProperty(field), recommended.GetProperty(field)), $"{field}: {trial.GetProperty(field)} in trials, {recommended.GetProperty(field)} recommended");

        Assert.Equal(0.9, best.GetProperty("parameters").GetProperty("x").GetDouble(), 1e-9);
        var x = recommended.GetProperty("parameters").GetProperty("x").GetDouble();
        Assert.True(x is >= 0.3 and <= 0.7, $"recommended x = {x}\n{output}");
        Assert.Contains($"Recommended trial {recommended.GetProperty("number").GetInt32()}: objective=", output);
    }

    [Fact]
    public async Task Study_json_says_which_trials_ran_an_enqueued_set_and_which_a_suggestion()
    {
        File.WriteAllText(Path.Combine(Root, "seeded.yaml"), """
            name: seeded
            objective: {metric: objective, goal: minimize}
            algorithm: {name: random, seed: 5}
            budget: {maxTrials: 5, parallelTrials: 2}
            parameters: [{name: x, type: double, min: 0, max: 1}, {name: kind, type: categorical, values: [a, b]}]
            enqueue:
              - {x: 0.25, kind: b}
              - {x: 0.75, kind: a}
            trial:
              steps: [{name: s, command: [sh, -c, "echo objective=${params.x}"]}]
            """);
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "seeded.yaml", "--data", "data", "--out", "out");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var trials = json.RootElement.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2, 3, 4], trials.Select(t => t.GetProperty("number").GetInt32()));
        Assert.All(trials, t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));
        // Trials 0 and 1 ran the enqueued sets, in list order, and say so; the algorithm's trials say they are its.
        Assert.Equal(["enqueued", "enqueued", "suggested", "suggested", "suggested"], trials.Select(t => t.GetProperty("source").GetString()));
        Assert.Equal([(0.25, "b"), (0.75, "a")], trials[..2].Select(t => (t.GetProperty("parameters").GetProperty("x").GetDouble(), t.GetProperty("parameters").GetProperty("kind").GetString())));
    }

    [Fact]
    public async Task A_study_whose_every_trial_failed_fails_even_within_maxFailedTrials()
    {
        File.WriteAllText(Path.Combine(Root, "hopeless.yaml"), """
            name: hopeless
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 2, maxFailedTrials: 5}
            parameters: [{name: x, type: int, min: 0, max: 3}]
            trial:
              steps: [{name: s, command: [sh, -c, "exit 3"]}]
            """);
        var (exit, output, _) = await Tuner.RunAsync(Root, "run", "hopeless.yaml", "--data", "data", "--out", "out");
        Assert.Equal(1, exit);
        Assert.Contains("Study hopeless Failed: no trial succeeded: 2 of 2 failed.", output);
        // Why, without opening study.json.
        Assert.Contains("Trial 0 failed: step 's' exited with code 3", output);
        Assert.DoesNotContain("Recommended trial", output);
        // No trial to name: both are written, as null.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("bestTrial").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("recommendedTrial").ValueKind);
    }

    [Theory]
    [InlineData(".", "is a folder, not a study file")]
    [InlineData("missing.yaml", "cannot read")]
    public async Task A_study_file_that_cannot_be_read_is_one_line_and_exit_2(string file, string reason)
    {
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", file, "--data", "data");
        Assert.Equal(2, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(reason, line);
        Assert.Empty(output);
    }

    /// <summary>experiments/digits as the README runs it on a machine without a GPU: scikit-learn, the cache and asha, for real.</summary>
    [Fact]
    public async Task The_digits_study_runs_on_the_cpu_prepares_once_stops_poor_trials_early_and_learns_the_digits()
    {
        var study = Path.Combine(Tuner.RepositoryRoot, "experiments", "digits", "study.yaml");
        // A machine without GPUs, whatever this one has: the study's train step then uses scikit-learn.
        var (exit, output, error) = await Tuner.RunAsync(Root, [("TUNER_GPUS", "none")], "run", study, "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var trials = json.RootElement.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(30, trials.Length);
        var steps = trials.SelectMany(t => t.GetProperty("steps").EnumerateArray()).ToArray();
        Assert.Equal(1, steps.Count(s => s.GetProperty("name").GetString() == "prepare" && !s.GetProperty("cached").GetBoolean()));
        Assert.Contains(trials, t => t.GetProperty("status").GetString() == "EarlyStopped");
        // A finished trial was evaluated on the test split; the best is a good digits classifier.
        var best = json.RootElement.GetProperty("bestTrial").GetProperty("metrics");
        Assert.InRange(best.GetProperty("accuracy").GetDouble(), 0.95, 1.0);
        Assert.InRange(best.GetProperty("test_accuracy").GetDouble(), 0.9, 1.0);
        Assert.Equal(0, best.GetProperty("gpu").GetDouble());
    }
}
