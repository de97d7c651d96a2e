using System.Text.Json;
using Tuning.Algorithms.Space;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Reports;

/// <summary>
/// Writes study.json exactly in the shape DESIGN.md fixes: parameters keep their type (numbers as numbers,
/// categories as strings), intermediate values as [step, value] pairs, a metric that is not finite as null.
/// </summary>
public static class StudyJson
{
    public static void Write(Stream stream, StudySnapshot study, IReadOnlyList<TrialRecord> trials)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("id", study.Id.ToString("N"));
        json.WriteString("name", study.Name);
        json.WriteString("status", study.Status.ToString());
        json.WriteString("reason", study.Reason);
        json.WriteStartObject("objective");
        json.WriteString("metric", study.Metric);
        json.WriteString("goal", study.Maximize ? "maximize" : "minimize");
        json.WriteEndObject();
        json.WritePropertyName("bestTrial");
        if (study.Best is { } best)
        {
            json.WriteStartObject();
            json.WriteString("id", best.Id);
            json.WriteNumber("number", best.Number);
            WriteParameters(json, best.Parameters);
            WriteMetrics(json, best.Metrics);
            json.WriteEndObject();
        }
        else json.WriteNullValue();
        json.WriteStartArray("trials");
        foreach (var trial in trials.OrderBy(t => t.Number)) WriteTrial(json, trial);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteFile(string path, StudySnapshot study, IReadOnlyList<TrialRecord> trials)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        using (var file = File.Create(temporary)) Write(file, study, trials);
        File.Move(temporary, path, overwrite: true);
    }

    private static void WriteTrial(Utf8JsonWriter json, TrialRecord trial)
    {
        json.WriteStartObject();
        json.WriteString("id", trial.Id);
        json.WriteNumber("number", trial.Number);
        json.WriteString("status", trial.Status.ToString());
        WriteParameters(json, trial.Parameters);
        WriteMetrics(json, trial.Metrics);
        json.WriteStartObject("intermediate");
        foreach (var (name, points) in trial.Intermediate)
        {
            json.WriteStartArray(name);
            foreach (var point in points)
            {
                json.WriteStartArray();
                json.WriteNumberValue(point.Step);
                WriteNumber(json, point.Value);
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteStartArray("steps");
        foreach (var step in trial.Steps)
        {
            json.WriteStartObject();
            json.WriteString("name", step.Name);
            json.WriteBoolean("cached", step.Cached);
            json.WriteNumber("seconds", Math.Round(step.Seconds, 3));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        WriteTime(json, "startedAt", trial.StartedAt);
        WriteTime(json, "completedAt", trial.CompletedAt);
        json.WriteString("error", trial.Error);
        json.WriteEndObject();
    }

    private static void WriteParameters(Utf8JsonWriter json, IReadOnlyDictionary<string, ParameterValue> parameters)
    {
        json.WriteStartObject("parameters");
        foreach (var (name, value) in parameters)
        {
            if (value.Category is { } category) json.WriteString(name, category);
            else
            {
                json.WritePropertyName(name);
                WriteNumber(json, value.Number);
            }
        }
        json.WriteEndObject();
    }

    private static void WriteMetrics(Utf8JsonWriter json, IReadOnlyDictionary<string, double> metrics)
    {
        json.WriteStartObject("metrics");
        foreach (var (name, value) in metrics)
        {
            json.WritePropertyName(name);
            WriteNumber(json, value);
        }
        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } t) json.WriteString(name, t);
        else json.WriteNull(name);
    }
}
