using Tuning.Tuner.Grains;
using Tuning.Tests.Shared;

namespace Tuning.Tuner.Tests;

/// <summary>The step cache, learning curves and early stopping through real grains, a real store and real processes.</summary>
public sealed class PipelineStudyTests() : InTemporaryFolder("tuning-pipelines-")
{
    private string Counter => Path.Combine(Root, "prepare.count");

    private string Yaml(string budget, string earlyStopping = "", string train = "echo objective=$(( $(cat ${steps.prepare.outputs}/data) + ${params.x} ))") => $$"""
        name: cached-study
        objective: {metric: objective, goal: minimize}
        {{earlyStopping}}
        budget: {{budget}}
        parameters:
          - {name: x, type: int, min: 0, max: 1000}
        trial:
          steps:
            - name: prepare
              command: [sh, -c, "echo ran >> {{Counter}}; sleep 1; echo 42 > ${outputs}/data"]
            - name: train
              dependsOn: [prepare]
              command: [sh, -c, "{{train}}"]
        """;

    [Fact]
    public async Task A_step_that_uses_no_parameter_runs_once_per_study_across_parallel_trials_and_restarts()
    {
        Guid first;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            var study = await cluster.StartStudyAsync(Yaml("{maxTrials: 8, parallelTrials: 4}"));
            var end = await TuningCluster.WaitForEndAsync(study);
            Assert.Equal(StudyStatus.Succeeded, end.Status);
            first = end.Id;
            var trials = await study.GetTrials();
            Assert.Single(File.ReadAllLines(Counter));
            Assert.Equal(1, trials.Count(t => !t.Steps.Single(s => s.Name == "prepare").Cached));
            Assert.All(trials.SelectMany(t => t.Steps).Where(s => s.Cached), s => Assert.Equal(0, s.Seconds));
            Assert.All(trials, t => Assert.Equal(42 + t.Parameters["x"].Number, t.Metrics["objective"]));
        }

        // The cache lives in the data folder: a new study of the same file after a restart takes prepare from it.
        await using (var restarted = await TuningCluster.StartAsync(Root))
        {
            var study = await restarted.StartStudyAsync(Yaml("{maxTrials: 2, parallelTrials: 2}"));
            Assert.NotEqual(first, study.GetPrimaryKey());
            Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(study)).Status);
            Assert.Single(File.ReadAllLines(Counter));
            Assert.All(await study.GetTrials(), t => Assert.True(t.Steps[0].Cached));
        }
    }

    [Fact]
    public async Task Learning_curves_reach_the_trial_record_while_the_trial_runs()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(Yaml("{maxTrials: 1}",
            train: "for e in 1 2 3 4 5 6 7 8 9 10; do echo epoch=$e objective=$e; sleep 0.3; done"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        TrialRecord? seen = null;
        while (DateTime.UtcNow < deadline && seen is null)
        {
            seen = (await study.GetTrials()).FirstOrDefault(t => t.Status == TrialStatus.Running && t.Intermediate.ContainsKey("objective"));
            await Task.Delay(100);
        }
        Assert.NotNull(seen);
        Assert.InRange(seen.Intermediate["objective"].Length, 1, 9);
        // The stored record carries the curve too, not only the study's memory.
        var stored = await cluster.Grains.GetGrain<ITrialGrain>(TrialGrain.Key(study.GetPrimaryKey(), 0)).GetRecord();
        Assert.NotNull(stored);
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(10, (await study.GetTrials()).Single().Intermediate["objective"].Length);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
    }

    [Theory]
    [InlineData("{name: median, settings: {minTrials: 3}}")]
    [InlineData("{name: asha, settings: {minStep: 2, reductionFactor: 3}}")]
    [InlineData("{name: hyperband, settings: {minStep: 1, maxStep: 16, reductionFactor: 2}}")]
    public async Task Early_stopping_stops_clearly_worse_trials_keeps_their_curves_and_never_stops_the_best(string rule)
    {
        // A flat curve at x over sixteen epochs: a trial's worth is known from its first epoch. Rungs come by step 6 at
        // the latest; the epochs after that leave a loaded machine (CI's two cores) time to end a stopped trial before
        // its curve is complete.
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync(Yaml("{maxTrials: 12, parallelTrials: 2}", earlyStopping: "earlyStopping: " + rule,
            train: "for e in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do echo epoch=$e objective=${params.x}; sleep 0.2; done"));
        var end = await TuningCluster.WaitForEndAsync(study, seconds: 120);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        var trials = await study.GetTrials();
        var stopped = trials.Where(t => t.Status == TrialStatus.EarlyStopped).ToArray();
        Assert.NotEmpty(stopped);
        Assert.All(stopped, t =>
        {
            Assert.InRange(t.Intermediate["objective"].Length, 1, 15);
            Assert.Contains("stopped early by", t.Error);
            Assert.Equal(t.Parameters["x"].Number, t.Metrics["objective"]);
        });
        // The best trial of the study ran to its end.
        var best = trials.MinBy(t => t.Parameters["x"].Number)!;
        Assert.Equal(TrialStatus.Succeeded, best.Status);
        Assert.Equal(best.Number, end.Best!.Number);
        Assert.Equal(12, trials.Length);
    }

    [Fact]
    public async Task A_monotone_constraint_stops_a_trial_of_several_objectives_at_the_epoch_it_breaks()
    {
        // Memory grows by x each epoch, over sixteen epochs of 0.2 s: a trial with x above 41 breaks memory <= 500 by
        // epoch 12, leaving a loaded machine time to stop it. The median rule waits for more trials than the study has,
        // so only the constraint stops trials here.
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.StartStudyAsync("""
            name: constrained
            objectives: [{metric: a, goal: minimize}, {metric: b, goal: minimize}]
            constraints: [{metric: memory, max: 500, monotone: true}]
            earlyStopping: {name: median, settings: {minTrials: 100}}
            budget: {maxTrials: 6, parallelTrials: 2}
            parameters: [{name: x, type: int, min: 0, max: 200}]
            trial:
              steps:
                - name: train
                  command: [sh, -c, "for e in $(seq 16); do echo epoch=$e a=$0 b=$((200 - $0)) memory=$(($0 * e)); sleep 0.2; done", "${params.x}"]
            """);
        var end = await TuningCluster.WaitForEndAsync(study, seconds: 120);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        var trials = await study.GetTrials();
        Assert.Equal(6, trials.Length);
        foreach (var trial in trials)
        {
            var x = trial.Parameters["x"].Number;
            if (x * 12 > 500)
            {
                Assert.True(trial.Status == TrialStatus.EarlyStopped, $"trial {trial.Number} (x = {x}): {trial.Status}");
                Assert.Contains("breaks its bound (max 500), and the constraint is monotone", trial.Error);
                Assert.InRange(trial.Intermediate["memory"].Length, 1, 15);
            }
            else if (x * 16 <= 500) Assert.Equal(TrialStatus.Succeeded, trial.Status);
        }
    }

    [Fact]
    public async Task Two_studies_that_miss_the_same_key_at_once_share_one_run_of_it()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var studies = await Task.WhenAll(cluster.StartStudyAsync(Yaml("{maxTrials: 3, parallelTrials: 3}")),
            cluster.StartStudyAsync(Yaml("{maxTrials: 3, parallelTrials: 3}"), seed: 2));
        foreach (var study in studies) Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(study)).Status);
        Assert.Single(File.ReadAllLines(Counter));
        var prepares = (await Task.WhenAll(studies.Select(s => s.GetTrials()))).SelectMany(t => t).Select(t => t.Steps[0]).ToArray();
        Assert.Equal(6, prepares.Length);
        Assert.Equal(1, prepares.Count(p => !p.Cached));
    }
}
