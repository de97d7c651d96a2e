using Tuning.Tuner.Grains;
using Tuning.Tests.Shared;

namespace Tuning.Tuner.Tests;

public sealed class StudyGrainTests() : InTemporaryFolder("tuning-grains-")
{
    [Fact]
    public async Task A_study_runs_to_its_budget_and_its_state_survives_a_silo_restart()
    {
        var yaml = TuningCluster.Study("[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 6, parallelTrials: 2}");
        Guid id;
        StudySnapshot before;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            var study = await cluster.StartStudyAsync(yaml);
            before = await TuningCluster.WaitForEndAsync(study);
            id = before.Id;
            Assert.Equal(StudyStatus.Succeeded, before.Status);
            Assert.Equal(6, before.Succeeded);
            Assert.Equal((await study.GetTrials()).Min(t => t.Metrics["objective"]), before.Best!.Metrics["objective"]);
        }

        await using (var restarted = await TuningCluster.StartAsync(Root))
        {
            var study = restarted.Grains.GetGrain<IStudyGrain>(id);
            var after = await study.GetSnapshot();
            Assert.Equal(StudyStatus.Succeeded, after.Status);
            Assert.Equal(before.Best!.Number, after.Best!.Number);
            var trials = await study.GetTrials();
            Assert.Equal(Enumerable.Range(0, 6), trials.Select(t => t.Number).Order());
            Assert.All(trials, t => Assert.Equal(TrialStatus.Succeeded, t.Status));
            Assert.Contains(await restarted.Grains.GetGrain<IStudyRegistryGrain>(0).List(), e => e.Id == id);
        }
    }

    [Fact]
    public async Task Grid_exhausts_and_study_succeeds_without_a_duplicate_point()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study(
            "[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 50, parallelTrials: 4}",
            parameters: "- {name: x, type: double, min: 0, max: 1, step: 0.5}\n  - {name: c, type: categorical, values: [a, b]}",
            algorithm: "grid"));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        Assert.Contains("exhausted", end.Reason);
        var trials = await study.GetTrials();
        Assert.Equal(6, trials.Length);
        Assert.Equal(6, trials.Select(t => $"{t.Parameters["x"]}/{t.Parameters["c"]}").Distinct().Count());
    }

    [Fact]
    public async Task Parallel_bayesian_trials_never_repeat_a_point_of_a_small_discrete_space()
    {
        // 18 points, 14 trials, 3 at a time: without spreading pending trials apart, repeats would be near certain.
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study(
            "[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 14, parallelTrials: 3}",
            parameters: "- {name: x, type: int, min: 0, max: 5}\n  - {name: k, type: categorical, values: [a, b, c]}",
            algorithm: "bayesian"));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.True(end.Status == StudyStatus.Succeeded, end.ToString());
        var trials = await study.GetTrials();
        Assert.Equal(14, trials.Length);
        Assert.Equal(14, trials.Select(t => $"{t.Parameters["x"]}/{t.Parameters["k"]}").Distinct().Count());
    }

    [Theory]
    [InlineData("tpe")]
    [InlineData("sobol")]
    public async Task Parallel_trials_get_the_suggestion_their_number_and_the_observations_before_them_call_for(string algorithm)
    {
        // Sobol: trial n gets point n, whatever the parallelism. TPE with parallelTrials 1: trial n is what the
        // suggester gives for n after trials 0..n-1, so the grain hands the suggester the right observations.
        var parallel = algorithm == "sobol" ? 3 : 1;
        await using var cluster = await TuningCluster.StartAsync(Root);
        var yaml = TuningCluster.Study("[sh, -c, \"echo objective=${params.x}\"]", $"{{maxTrials: 14, parallelTrials: {parallel}}}", algorithm: algorithm);
        var study = await cluster.StartStudyAsync(yaml, seed: 5);
        Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(study)).Status);
        var trials = (await study.GetTrials()).OrderBy(t => t.Number).ToArray();
        var spec = Tuning.Trials.Studies.StudyFile.Parse(yaml, cluster.DataDirectory);
        var suggester = Tuning.Algorithms.Suggesters.AlgorithmCatalog.Find(algorithm)!.Create(spec.Algorithm.Settings, spec.Space, 5, spec.Budget.MaxTrials);
        var observations = new List<Tuning.Algorithms.Suggesters.Observation>();
        foreach (var trial in trials)
        {
            var expected = suggester.Suggest(new(trial.Number, observations.ToArray(), []))!;
            Assert.Equal(expected["x"], trial.Parameters["x"]);
            observations.Add(new(trial.Parameters, trial.Metrics["objective"]));
        }
    }

    [Fact]
    public async Task More_failures_than_allowed_fail_the_study()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study("[sh, -c, \"exit 1\"]", "{maxTrials: 20, maxFailedTrials: 2}"));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Failed, end.Status);
        Assert.Equal(3, end.Failed);
        Assert.Contains("maxFailedTrials", end.Reason);
        Assert.All(await study.GetTrials(), t => Assert.Contains("exited with code 1", t.Error));
    }

    [Fact]
    public async Task Reaching_the_target_ends_the_study_early()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study(
            "[sh, -c, \"echo objective=0.1\"]", "{maxTrials: 20}", objective: "{metric: objective, goal: minimize, target: 0.5}"));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        Assert.Contains("target", end.Reason);
        Assert.Equal(1, end.Created);
    }

    [Fact]
    public async Task Stopping_a_study_cancels_its_running_trials()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study("[sleep, \"30\"]", "{maxTrials: 4, parallelTrials: 2}"));
        // Both trials running (started: their runs in flight), not a guess at how long that takes.
        await TuningCluster.WaitUntilAsync(async () => (await study.GetTrials()).Count(t => t.Status == TrialStatus.Running) == 2);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopped = await study.Stop();
        Assert.Equal(StudyStatus.Stopped, stopped.Status);
        // Stop returns once the trials have stored their end, and soon: their processes end on SIGTERM.
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 5);
        var trials = await study.GetTrials();
        Assert.Equal(2, trials.Length);
        Assert.All(trials, t => Assert.Equal(TrialStatus.Cancelled, t.Status));
        // Each says why: the study's end and its reason.
        Assert.All(trials, t => Assert.Equal("the study ended: stopped by request", t.Error));
    }

    [Fact]
    public async Task A_report_of_an_earlier_attempt_reaches_neither_the_trial_nor_the_study()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study("[sleep, \"30\"]", "{maxTrials: 1}"));
        var current = Assert.Single(await study.GetTrials());
        Assert.NotNull(current.Attempt);
        // What an earlier attempt, still running on a partitioned silo, would send: a dreadful curve.
        var stale = current with
        {
            Attempt = "an-earlier-attempt",
            Metrics = new() { ["objective"] = 1e9 },
            Intermediate = new() { ["objective"] = [new(1, 1e9), new(2, 1e9)] },
        };
        var trial = cluster.Grains.GetGrain<ITrialGrain>(TrialGrain.Key(study.GetPrimaryKey(), 0));
        Assert.False(await trial.RecordProgress(stale));
        Assert.Null(await study.TrialProgress(stale));
        Assert.Empty((await trial.GetRecord())!.Intermediate);
        var seen = Assert.Single(await study.GetTrials());
        Assert.Equal(current.Attempt, seen.Attempt);
        Assert.Empty(seen.Intermediate);
        // The current attempt's own report is taken by both.
        var fresh = current with { Intermediate = new() { ["objective"] = [new(1, 3)] } };
        Assert.True(await trial.RecordProgress(fresh));
        Assert.Null(await study.TrialProgress(fresh));
        Assert.Single(Assert.Single(await study.GetTrials()).Intermediate["objective"]);
        await study.Stop();
    }

    [Fact]
    public async Task Maximize_goals_pick_the_largest_value_as_best()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(TuningCluster.Study(
            "[sh, -c, \"echo accuracy=${params.x}\"]", "{maxTrials: 8, parallelTrials: 3}", objective: "{metric: accuracy, goal: maximize}"));
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal((await study.GetTrials()).Max(t => t.Metrics["accuracy"]), end.Best!.Metrics["accuracy"]);
    }
}
