using System.Text.Json;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>Writes study.json in the shape DESIGN.md fixes (see <see cref="Views"/>).</summary>
public static class StudyJson
{
    private static readonly JsonSerializerOptions Indented = new(Views.Json) { WriteIndented = true };

    /// <param name="recommended">The trial the model recommends (<see cref="Recommender"/>); null when none succeeded.</param>
    public static void Write(Stream stream, StudySnapshot study, IReadOnlyList<TrialRecord> trials, TrialRecord? recommended) =>
        JsonSerializer.Serialize(stream, Views.Report(study, trials, recommended), Indented);

    /// <summary>Written to a temporary file and renamed, so a reader never sees half a report.</summary>
    public static void WriteFile(string path, StudySnapshot study, IReadOnlyList<TrialRecord> trials, TrialRecord? recommended)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        using (var file = File.Create(temporary)) Write(file, study, trials, recommended);
        File.Move(temporary, path, overwrite: true);
    }
}
