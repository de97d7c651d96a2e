using System.Xml.Linq;
using Tuning.Algorithms.Space;
using Tuning.Api.Reports;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Tests;

/// <summary>The pareto-front plot of three objectives: a matrix of every pair, drawn from records without a silo.</summary>
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

    [Fact]
    public void Three_objectives_draw_one_cell_per_pair_with_the_front_marked_and_the_infeasible_trial_grey()
    {
        var trials = Enumerable.Range(0, 5).Select(Trial).ToArray();
        var front = ParetoRanking.Front(ThreeObjectives, trials)!;
        var study = new StudySnapshot(Guid.NewGuid(), "three", "default", StudyStatus.Succeeded, null, "a", false, 5, 5, 0, 5, 0, null,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, Pareto: front);
        var model = Plots.Build("pareto-front", study, trials, ThreeObjectives);
        using var stream = new MemoryStream();
        Plots.WriteSvg(model, stream);
        var svg = XDocument.Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        var texts = svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToList();
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
