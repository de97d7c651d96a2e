using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>The one writer of a study's report: study.json and the plots, for <c>tuner run --out</c> (HTTP serves the same plots).</summary>
public static class StudyReports
{
    /// <summary>Writes DIR/study.json and DIR/KIND.svg for every kind of plot that applies (DESIGN.md: the plots into DIR); returns the plots written.</summary>
    /// <param name="recommended">The trial the model recommends (<see cref="Recommender"/>); null when none succeeded.</param>
    public static IReadOnlyList<string> Write(string directory, StudySnapshot study, IReadOnlyList<TrialRecord> trials, StudySpec spec, TrialRecord? recommended)
    {
        StudyJson.WriteFile(Path.Combine(directory, "study.json"), study, trials, recommended);
        var written = new List<string>();
        foreach (var kind in Plots.Names)
        {
            OxyPlot.PlotModel model;
            try
            {
                model = Plots.Build(kind, study, trials, spec);
            }
            catch (PlotException)
            {
                continue; // this study has no such plot (a contour needs two numeric parameters, a front several objectives)
            }
            var path = Path.Combine(directory, kind + ".svg");
            using (var file = File.Create(path)) Plots.WriteSvg(model, file);
            written.Add(path);
        }
        return written;
    }
}
