using System.Globalization;
using System.Text.Json;

namespace Tuning.Trials.Execution;

/// <summary>One intermediate value of a metric: its value at a training step or epoch.</summary>
public readonly record struct MetricPoint(long Step, double Value);

/// <summary>
/// The metrics a step reported. A metric's final value is its last reported value (of the latest step, where lines
/// arrive out of order); values reported together with <c>step=N</c> or <c>epoch=N</c> are also kept as
/// intermediate values at that step.
/// </summary>
public sealed partial class MetricReport
{
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=[:\[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])")]
    private static partial System.Text.RegularExpressions.Regex BareNonFinite();

    private static readonly string[] StepNames = ["step", "epoch"];

    public Dictionary<string, double> Final { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<MetricPoint>> Intermediate { get; } = new(StringComparer.Ordinal);

    /// <summary>The step each final value was reported at; <see cref="long.MaxValue"/> for a value reported without one.</summary>
    private readonly Dictionary<string, long> _finalSteps = new(StringComparer.Ordinal);

    /// <summary>What one line of a step's output (or, <paramref name="json"/>, of its metrics file) reports; null for a line that is no metric line.</summary>
    public static MetricReport? OfLine(string line, bool json)
    {
        var reported = new MetricReport();
        return (json ? reported.ReadJsonLine(line) : reported.ReadLine(line)) ? reported : null;
    }

    /// <summary>
    /// Reads one line of standard output. It counts as a metric line only when every whitespace-separated
    /// token is <c>name=number</c>, so ordinary log lines that happen to hold an '=' are left alone.
    /// </summary>
    public bool ReadLine(string line)
    {
        var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0) return false;
        var pairs = new (string Name, double Value)[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var cut = tokens[i].IndexOf('=');
            if (cut <= 0 || !NumberText.TryParse(tokens[i][(cut + 1)..], out var value)) return false;
            pairs[i] = (tokens[i][..cut], value);
        }
        Record(pairs);
        return true;
    }

    /// <summary>Reads one line of the <c>TUNER_METRICS_FILE</c>: a JSON object of metric names to numbers.</summary>
    public bool ReadJsonLine(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return false;
        try
        {
            // Python's json.dumps writes NaN and Infinity bare, which JSON does not allow: read them as the strings
            // they would be quoted as, so a diverged trial says it diverged rather than that it reported nothing.
            using var document = JsonDocument.Parse(BareNonFinite().Replace(line, "\"$1\""));
            if (document.RootElement.ValueKind != JsonValueKind.Object) return false;
            var pairs = new List<(string, double)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number)
                    pairs.Add((property.Name, property.Value.GetDouble()));
                else if (property.Value.ValueKind == JsonValueKind.String && NumberText.TryParse(property.Value.GetString()!, out var value))
                    pairs.Add((property.Name, value));
            }
            Record([.. pairs]);
            return pairs.Count > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private void Record((string Name, double Value)[] pairs)
    {
        long? step = null;
        foreach (var (name, value) in pairs)
            if (StepNames.Contains(name) && double.IsFinite(value))
                step = (long)value;
        foreach (var (name, value) in pairs)
        {
            Final[name] = value;
            _finalSteps[name] = step ?? long.MaxValue;
            if (step is { } s && !StepNames.Contains(name))
            {
                if (!Intermediate.TryGetValue(name, out var points)) Intermediate[name] = points = [];
                points.Add(new MetricPoint(s, value));
            }
        }
    }

    /// <summary>
    /// Adds a line of the same step's output. Its standard output and its metrics file are read apart, so their
    /// lines may arrive out of order: curves are kept in step order, and a value reported at a step becomes final
    /// only if no value of a later step (or one reported without a step, which is the step's last word) is there.
    /// </summary>
    public void MergeLine(MetricReport line)
    {
        foreach (var (name, value) in line.Final)
        {
            // A value with no step recorded (a cache entry's metrics, set as final) is the step's last word.
            var at = line._finalSteps.GetValueOrDefault(name, long.MaxValue);
            if (_finalSteps.TryGetValue(name, out var mine) && mine > at) continue;
            Final[name] = value;
            _finalSteps[name] = at;
        }
        foreach (var (name, points) in line.Intermediate)
        {
            if (!Intermediate.TryGetValue(name, out var mine)) Intermediate[name] = mine = [];
            foreach (var point in points)
            {
                var at = mine.Count;
                while (at > 0 && mine[at - 1].Step > point.Step) at--;
                mine.Insert(at, point);
            }
        }
    }

    /// <summary>Adds what a later step reported: its values win, its curves are appended.</summary>
    public void Merge(MetricReport later)
    {
        foreach (var (name, value) in later.Final)
        {
            Final[name] = value;
            _finalSteps[name] = later._finalSteps.GetValueOrDefault(name, long.MaxValue);
        }
        foreach (var (name, points) in later.Intermediate)
        {
            if (!Intermediate.TryGetValue(name, out var mine)) Intermediate[name] = mine = [];
            mine.AddRange(points);
        }
    }

    public override string ToString() =>
        string.Join(" ", Final.Select(m => $"{m.Key}={m.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
}
