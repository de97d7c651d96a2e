using System.Globalization;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Tests.Shared;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

/// <summary>Studies seeded with points a user already knows: enqueued parameter sets, and an earlier study as a warm start.</summary>
public sealed class SeededStudyTests() : InTemporaryFolder("tuning-seeded-")
{
    private const string Objective = "[sh, -c, \"echo objective=${params.x}\"]";

    private static string With(string yaml, string section) => yaml.Replace("parameters:\n", section + "\nparameters:\n");

    [Fact]
    public async Task Enqueued_sets_run_first_as_trials_0_to_k_and_the_suggester_observes_them()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var yaml = With(TuningCluster.Study(Objective, "{maxTrials: 4, parallelTrials: 1}", algorithm: "bayesian"),
            "enqueue:\n  - {x: 9.25}\n  - {x: 0.5}");
        yaml = yaml.Replace("algorithm: {name: bayesian}", "algorithm: {name: bayesian, settings: {initialTrials: 2}}");
        var study = await cluster.StartStudyAsync(yaml, seed: 3);
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        var trials = (await study.GetTrials()).OrderBy(t => t.Number).ToArray();
        Assert.Equal(4, trials.Length);
        Assert.Equal(9.25, trials[0].Parameters["x"].Number);
        Assert.Equal(0.5, trials[1].Parameters["x"].Number);
        Assert.True(end.Best!.Metrics["objective"] <= 0.5);

        // Trials 2 and 3 are the model's, fitted on the enqueued trials' results: what the suggester gives for them.
        var spec = StudyFile.Parse(yaml, Root);
        var suggester = AlgorithmCatalog.Find("bayesian")!.Create(spec.Algorithm.Settings, spec.Space, 3, spec.Budget.MaxTrials);
        var observations = trials.Take(2).Select(t => new Observation(t.Parameters, t.Metrics["objective"])).ToList();
        for (var n = 2; n < 4; n++)
        {
            Assert.Equal(suggester.Suggest(new SuggestionContext(n, observations.ToArray(), []))!["x"], trials[n].Parameters["x"]);
            observations.Add(new Observation(trials[n].Parameters, trials[n].Metrics["objective"]));
        }
    }

    /// <summary>An earlier study of x in [0, 10] whose best trial is at x = 7.3: the objective is (x - 7.3)².</summary>
    private string WriteEarlierStudy(string name = "earlier.json", string parameter = "x", double[]? xs = null)
    {
        xs ??= [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.3, 8.5, 9.5];
        var trials = xs.Select((x, n) => string.Create(CultureInfo.InvariantCulture,
            $$$"""{"id": "t{{{n}}}", "number": {{{n}}}, "status": "Succeeded", "parameters": {"{{{parameter}}}": {{{x}}}}, "metrics": {"objective": {{{(x - 7.3) * (x - 7.3)}}}}}"""));
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, $$"""{"id": "e", "name": "earlier", "status": "Succeeded", "objective": {"metric": "objective", "goal": "minimize"}, "trials": [{{string.Join(",\n", trials)}}]}""");
        return path;
    }

    [Theory]
    [InlineData("bayesian")]
    [InlineData("tpe")]
    public async Task A_warm_start_leads_the_first_suggestions_to_the_earlier_studys_best_and_does_not_count_against_the_budget(string algorithm)
    {
        WriteEarlierStudy();
        await using var cluster = await TuningCluster.StartAsync(Root);
        var cold = TuningCluster.Study("[sh, -c, \"echo objective=$(( 0 ))\"]", "{maxTrials: 3, parallelTrials: 1}", algorithm: algorithm);
        var warm = With(cold, "warmStart: {from: earlier.json}");

        var coldStudy = await cluster.StartStudyAsync(cold, seed: 9);
        var warmStudy = await cluster.StartStudyAsync(warm, seed: 9);
        Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(coldStudy)).Status);
        var end = await TuningCluster.WaitForEndAsync(warmStudy);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        Assert.Equal(3, end.Created);

        var coldFirst = (await coldStudy.GetTrials()).Single(t => t.Number == 0).Parameters["x"].Number;
        var warmTrials = (await warmStudy.GetTrials()).OrderBy(t => t.Number).ToArray();
        Assert.NotEqual(coldFirst, warmTrials[0].Parameters["x"].Number);
        // Every trial of the warm-started study is model-guided from the first, and the model knows where the best is.
        Assert.All(warmTrials, t => Assert.True(Math.Abs(t.Parameters["x"].Number - 7.3) < 1.5,
            $"trial {t.Number} at x = {t.Parameters["x"]} is far from the earlier study's best, x = 7.3 (cold trial 0: {coldFirst})"));

        // Exactly what the suggester gives with the earlier trials first, in file order, marked as a warm start.
        var spec = StudyFile.Parse(warm, Root);
        var earlier = spec.WarmStart!.Trials!.Select(t => new Observation(t.Parameters, t.Value)).ToArray();
        var suggester = AlgorithmCatalog.Find(algorithm)!.Create(spec.Algorithm.Settings, spec.Space, 9, spec.Budget.MaxTrials);
        Assert.Equal(suggester.Suggest(new SuggestionContext(0, earlier, [], earlier.Length))!["x"], warmTrials[0].Parameters["x"]);
    }

    [Fact]
    public async Task A_warm_start_survives_a_restart_without_its_file_and_a_mismatched_one_is_refused()
    {
        var file = WriteEarlierStudy();
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            // Another space: the earlier trials have 'x', this study has 'y'.
            var other = TuningCluster.Study(Objective.Replace("params.x", "params.y"), "{maxTrials: 3}", parameters: "- {name: y, type: double, min: 0, max: 10}", algorithm: "tpe");
            var refused = await Assert.ThrowsAsync<StudyFileException>(() => cluster.Studies.SubmitAsync(new StudySource(With(other, "warmStart: {from: earlier.json}"), Root)));
            Assert.Contains(refused.Errors, e => e.Path == "warmStart.from" && e.Message.Contains("parameter 'y' is missing from its trials"));
            Assert.Contains(refused.Errors, e => e.Path == "warmStart.from" && e.Message.Contains("parameter 'x', which this study does not"));
            // Out of range: the earlier study searched x up to 9.5, this one only to 5.
            var narrow = TuningCluster.Study(Objective, "{maxTrials: 3}", parameters: "- {name: x, type: double, min: 0, max: 5}", algorithm: "tpe");
            var outOfRange = await Assert.ThrowsAsync<StudyFileException>(() => cluster.Studies.SubmitAsync(new StudySource(With(narrow, "warmStart: {from: earlier.json}"), Root)));
            Assert.Contains(outOfRange.Errors, e => e.Message.Contains("trial 5, parameter 'x': 5.5 is out of range [0, 5]"));
        }

        // A study created with a warm start keeps it: resumed after a restart, with the file gone, it still suggests from it.
        var yaml = With(TuningCluster.Study("[sh, -c, \"sleep 0.3; echo objective=${params.x}\"]", "{maxTrials: 4, parallelTrials: 1}", algorithm: "tpe"), "warmStart: {from: earlier.json}");
        Guid id;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            var study = await cluster.StartStudyAsync(yaml, seed: 4);
            id = study.GetPrimaryKey();
            await Task.Delay(100);
        }
        File.Delete(file);
        await using (var restarted = await TuningCluster.StartAsync(Root, resumeStudies: true))
        {
            var study = restarted.Grains.GetGrain<IStudyGrain>(id);
            var end = await TuningCluster.WaitForEndAsync(study);
            Assert.True(end.Status == StudyStatus.Succeeded, end.ToString());
            var trials = (await study.GetTrials()).OrderBy(t => t.Number).ToArray();
            Assert.Equal(4, trials.Length);
            Assert.All(trials, t => Assert.True(Math.Abs(t.Parameters["x"].Number - 7.3) < 2.5, $"trial {t.Number} at x = {t.Parameters["x"]}: the warm start was lost"));
        }
    }
}
