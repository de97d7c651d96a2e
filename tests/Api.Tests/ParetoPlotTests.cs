using System.Xml.Linq;
using Tuning.Algorithms.Space;
using Tuning.Api.Reports;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Tests;

/// <summary>Plots of studies ranked by Pareto dominance, drawn from records without a silo.</summary>
public sealed class ParetoPlotTests
{
    /// <summary>x = 0..4 gives (a, b, c) = (x, (4 - x)², (x - 2)²): no trial dominates another; memory 100·x breaks its bound at x = 4.</summary>
    private static readonly StudySpec ThreeObjectives = StudyFile.Parse("""
        name: three
        objectives: [{metric: a, goal: minimize}, {metric: b, goal: minimize}, {metric: c, goal: minimize}]
        constraints: [{metric: memory, max: 300}]
        budget: {maxTrials: 5}
        parameters: [{name: x, type: int, min: 0, max: 4}]
        trial: {steps: [{name: s, command: ["true"]}]}
        """, "/studies");

    private static TrialRecord Trial(int x) => new($"t-{x}", x, TrialStatus.Succeeded, new() { ["x"] = ParameterValue.Of(x) },
        new() { ["a"] = x, ["b"] = (4 - x) * (4 - x), ["c"] = (x - 2) * (x - 2), ["memory"] = 100 * x }, [], [], null, null, null);

    /// <summary>The plot of an ended study of these trials, as its SVG.</summary>
    private static XDocument Svg(string kind, StudySpec spec, TrialRecord[] trials)
    {
        var study = new StudySnapshot(Guid.NewGuid(), spec.Name, "default", StudyStatus.Succeeded, null, spec.Objective.Metric, false,
            trials.Length, trials.Length, 0, trials.Length, 0, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, Pareto: ParetoRanking.Front(spec, trials));
        using var stream = new MemoryStream();
        Plots.WriteSvg(Plots.Build(kind, study, trials, spec), stream);
        return XDocument.Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static List<string> Texts(XDocument svg) => svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToList();

    [Fact]
    public void Under_a_constraint_the_plots_mark_the_best_feasible_trial_as_the_best()
    {
        var spec = StudyFile.Parse("""
            name: one
            objective: {metric: a, goal: minimize}
            constraints: [{metric: memory, max: 300}]
            budget: {maxTrials: 5}
            parameters: [{name: x, type: int, min: 0, max: 4}]
            trial: {steps: [{name: s, command: ["true"]}]}
            """, "/studies");
        // a = 4 - x falls to its lowest at x = 4, whose memory breaks the bound: trial 3 is the best.
        var trials = Enumerable.Range(0, 5).Select(x => Trial(x) with { Metrics = new() { ["a"] = 4 - x, ["memory"] = 100 * x } }).ToArray();
        foreach (var kind in new[] { "history", "slice", "edf" })
            Assert.Contains("trial 3, the best", Texts(Svg(kind, spec, trials)));
        // With no trial inside the bound there is no best to mark, as bestTrial is null.
        var infeasible = trials.Select(t => t with { Metrics = new(t.Metrics) { ["memory"] = 400 } }).ToArray();
        foreach (var kind in new[] { "history", "slice", "edf", "parallel-coordinates" })
            Assert.DoesNotContain(Texts(Svg(kind, spec, infeasible)), text => text.EndsWith("the best"));
    }

    [Fact]
    public void Three_objectives_draw_one_cell_per_pair_with_the_front_marked_and_the_infeasible_trial_grey()
    {
        var svg = Svg("pareto-front", ThreeObjectives, Enumerable.Range(0, 5).Select(Trial).ToArray());
        var texts = Texts(svg);
        Assert.Contains("Pareto front: each pair of 3 objectives", texts);
        Assert.Equal(1, texts.Count(t => t == "front"));
        // Columns a and b along the bottom, rows b and c on the left.
        Assert.Equal(["a", "b", "b", "c"], texts.Where(t => t is "a" or "b" or "c").Order());
        // Markers by colour, one path per series: the front's four trials in each of three cells, then the legend's marker.
        int[] Markers(string fill) => svg.Descendants().Where(e => e.Name.LocalName == "path" && (string?)e.Attribute("fill") == fill)
            .Select(e => e.Attribute("d")!.Value.Count(ch => ch == 'Z')).ToArray();
        Assert.Equal([4, 4, 4, 1], Markers("#FF4500"));
        // The infeasible trial, grey, once in each cell, and the legend's.
        Assert.Equal(4, svg.Descendants().Count(e => (string?)e.Attribute("fill") == "gray"));
    }
}
