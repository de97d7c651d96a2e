using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>The one writer of a study's report: study.json and the plots, for <c>tuner run --out</c> (HTTP serves the same plots).</summary>
public static class StudyReports
{
    /// <summary>Writes DIR/study.json and DIR/KIND.svg for every kind of plot that applies (DESIGN.md: the plots into DIR); returns the plots written.</summary>
    /// <param name="recommending">
    /// The trial the model recommends (<see cref="Recommender"/>; null when none succeeded), for study.json: its final
    /// fit runs while the plots are drawn.
    /// </param>
    public static async Task<IReadOnlyList<string>> WriteAsync(string directory, StudySnapshot study, IReadOnlyList<TrialRecord> trials, StudySpec spec,
        Task<RecommendedTrial?> recommending)
    {
        // Drawn at once, as the server draws plots for concurrent requests, and beside the recommendation's fit: at
        // 2,000 trials the fit and the plots one after another took 2 s of a run's end, on one core of two.
        Directory.CreateDirectory(directory);
        var drawn = new string?[Plots.Names.Length];
        var drawing = Task.Run(() => Parallel.For(0, Plots.Names.Length, i => drawn[i] = Draw(directory, Plots.Names[i], study, trials, spec)));
        StudyJson.WriteFile(Path.Combine(directory, "study.json"), study, trials, (await recommending)?.Trial);
        await drawing;
        return drawn.OfType<string>().ToList();
    }

    /// <summary>Draws one kind of plot into DIR/KIND.svg; null where this study has no such plot.</summary>
    private static string? Draw(string directory, string kind, StudySnapshot study, IReadOnlyList<TrialRecord> trials, StudySpec spec)
    {
        OxyPlot.PlotModel model;
        try
        {
            model = Plots.Build(kind, study, trials, spec);
        }
        catch (PlotException)
        {
            return null; // this study has no such plot (a contour needs two numeric parameters, a front several objectives)
        }
        var path = Path.Combine(directory, kind + ".svg");
        using (var file = File.Create(path)) Plots.WriteSvg(model, file);
        return path;
    }
}
