using System.Globalization;
using System.Text.Json;

namespace Tuning.Trials.Execution;

/// <summary>One intermediate value of a metric: its value at a training step or epoch.</summary>
public readonly record struct MetricPoint(long Step, double Value);

/// <summary>A line that looked like a metric line but was not read as one: where it was (<c>step 'train' stdout line 3</c>), what it said, and why it was not understood.</summary>
public sealed record RejectedLine(string Where, string Text, string Reason)
{
    public override string ToString() => $"{Where} '{Text}' was not understood: {Reason}";
}

/// <summary>
/// The metrics a step reported. A metric's final value is its last reported value (of the latest step, where lines
/// arrive out of order); values reported together with <c>step=N</c> or <c>epoch=N</c> are also kept as
/// intermediate values at that step. The last few lines that looked like metric lines but were not understood are
/// kept, so a trial that reports no objective can say which of its lines meant to. At most <see cref="MaxNames"/>
/// distinct names are kept; values of further names are counted and a few of those names kept for <see cref="Note"/>.
/// </summary>
public sealed partial class MetricReport
{
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=[:\[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])")]
    private static partial System.Text.RegularExpressions.Regex BareNonFinite();

    private static readonly string[] StepNames = ["step", "epoch"];

    /// <param name="alwaysKept">Names kept past <see cref="MaxNames"/> too: the study's objective, which a step may print after a flood of others.</param>
    public MetricReport(IEnumerable<string>? alwaysKept = null) => _alwaysKept = [.. alwaysKept ?? []];

    private readonly HashSet<string> _alwaysKept;

    public Dictionary<string, double> Final { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<MetricPoint>> Intermediate { get; } = new(StringComparer.Ordinal);

    /// <summary>The step each final value was reported at; <see cref="long.MaxValue"/> for a value reported without one.</summary>
    private readonly Dictionary<string, long> _finalSteps = new(StringComparer.Ordinal);

    /// <summary>How many rejected lines are kept (the last ones): enough to explain, bounded however much a step prints.</summary>
    public const int RejectedKept = 5;

    /// <summary>How much of a rejected line is kept: lines may be 64 KiB long.</summary>
    private const int RejectedTextKept = 200;

    private readonly Queue<RejectedLine> _rejected = new();

    /// <summary>
    /// How many distinct metric names a trial keeps. A step printing a new name on every line (<c>m1=1</c>, <c>m2=2</c>,
    /// …) would otherwise grow its trial's record, every list and page that shows the trial, and the server, without
    /// bound: a million names made the study list 20 MB and froze the dashboard.
    /// </summary>
    public const int MaxNames = 100;

    /// <summary>How many of the names not kept are named in <see cref="Note"/>: enough to recognise the pattern.</summary>
    private const int RefusedNamesNamed = 5;

    /// <summary>Values reported under names past <see cref="MaxNames"/>, which were not kept.</summary>
    private long _refusedValues;

    private readonly List<string> _refusedNames = [];

    /// <summary>What was not kept for want of room for more names, as the trial's note says it; null when everything was kept.</summary>
    public string? Note => _refusedValues == 0 ? null :
        $"only the first {MaxNames} metric names are kept: {_refusedValues.ToString("N0", CultureInfo.InvariantCulture)} " +
        $"value{(_refusedValues == 1 ? " was" : "s were")} reported under further names ({string.Join(", ", _refusedNames)}{(_refusedValues > _refusedNames.Count ? ", …" : "")}) and not kept";

    /// <summary>
    /// Whether a value of <paramref name="name"/> is kept where lines and steps are merged (one line's own report is
    /// bounded by the line's length): a name already kept is, a new one while there is room for it; one that is not is counted.</summary>
    private bool Keeps(string name)
    {
        if (Final.ContainsKey(name) || Final.Count < MaxNames || _alwaysKept.Contains(name)) return true;
        CountRefused(name, 1);
        return false;
    }

    private void CountRefused(string name, long values)
    {
        _refusedValues += values;
        if (_refusedNames.Count < RefusedNamesNamed && !_refusedNames.Contains(name)) _refusedNames.Add(name);
    }

    /// <summary>Counts what <paramref name="other"/> did not keep as not kept here either.</summary>
    private void CountRefused(MetricReport other)
    {
        foreach (var name in other._refusedNames) CountRefused(name, 0);
        _refusedValues += other._refusedValues;
    }

    /// <summary>The last <see cref="RejectedKept"/> lines that looked like metric lines but were not understood, oldest first.</summary>
    public IReadOnlyCollection<RejectedLine> Rejected => _rejected;

    /// <summary>
    /// What one line of a step's output (or, <paramref name="json"/>, of its metrics file) reports; null for a line
    /// that is no metric line, with <paramref name="rejected"/> saying why where the line looked like one.
    /// </summary>
    public static MetricReport? OfLine(string line, bool json, out string? rejected)
    {
        var reported = new MetricReport();
        return reported.Read(line, json, out rejected) ? reported : null;
    }

    /// <summary>
    /// Reads line <paramref name="number"/> of a step's <paramref name="source"/> (its output, or, <paramref name="json"/>,
    /// its metrics file) into this report: a metric line is merged, one that looked like a metric line but was not
    /// understood is kept with the reason. Returns what the line reported; null for none.
    /// </summary>
    public MetricReport? ReadNumberedLine(string line, bool json, string source, long number)
    {
        var reported = OfLine(line, json, out var rejected);
        if (rejected is not null) Reject($"{source} line {number}", line, rejected);
        if (reported is not null) MergeLine(reported);
        return reported;
    }

    /// <summary>Keeps a line that was not understood, dropping the oldest past <see cref="RejectedKept"/>.</summary>
    public void Reject(string where, string line, string reason)
    {
        var text = line.Trim();
        if (text.Length > RejectedTextKept) text = text[..RejectedTextKept] + "…";
        Keep(new RejectedLine(where, text, reason));
    }

    private void Keep(RejectedLine line)
    {
        _rejected.Enqueue(line);
        if (_rejected.Count > RejectedKept) _rejected.Dequeue();
    }

    /// <summary>
    /// Reads one line of standard output. It counts as a metric line only when every whitespace-separated
    /// token is <c>name=number</c>, so ordinary log lines that happen to hold an '=' are left alone.
    /// </summary>
    public bool ReadLine(string line) => Read(line, json: false, out _);

    /// <summary>Reads one line of the <c>TUNER_METRICS_FILE</c>: a JSON object of metric names to numbers.</summary>
    public bool ReadJsonLine(string line) => Read(line, json: true, out _);

    /// <summary>Records a metric line; a line that is none is not read, and where it looked like one, <paramref name="rejected"/> says why.</summary>
    private bool Read(string line, bool json, out string? rejected)
    {
        rejected = (json ? ParseJsonLine(line, out var pairs) : ParseLine(line, out pairs)) ?? StepProblem(pairs);
        if (rejected is not null || pairs.Length == 0) return false;
        Record(pairs);
        return true;
    }

    /// <summary>
    /// The pairs of a metric line (none for a line without '='), or why a line with an '=' is no metric line: the
    /// first token that is no <c>name=number</c> pair, or spaces around '='.
    /// </summary>
    private static string? ParseLine(string line, out (string Name, double Value)[] pairs)
    {
        pairs = [];
        var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!tokens.Any(token => token.Contains('='))) return null;
        var spaced = tokens.Select((token, i) => token == "=" || (token.StartsWith('=') && i > 0) || (token.EndsWith('=') && i < tokens.Length - 1));
        if (spaced.Any(split => split))
            return $"spaces around '=' split a pair (write {SpacesAroundEquals().Replace(line.Trim(), "=")})";
        var read = new (string Name, double Value)[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var cut = tokens[i].IndexOf('=');
            if (cut < 0) return $"'{tokens[i]}' is no name=value pair, and a metric line holds only such pairs";
            if (cut == 0) return $"'{tokens[i]}' has no name before '='";
            var text = tokens[i][(cut + 1)..];
            if (!NumberText.TryParse(text, out var value)) return NotANumber(text);
            read[i] = (tokens[i][..cut], value);
        }
        pairs = read;
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\s*=\s*")]
    private static partial System.Text.RegularExpressions.Regex SpacesAroundEquals();

    /// <summary>Why a value is no number, with the usual slips named: a decimal comma, digit separators, nothing at all.</summary>
    private static string NotANumber(string text)
    {
        if (text.Length == 0) return "no value after '='";
        var reason = $"'{text}' is not a number";
        if (text.Contains(',') && NumberText.TryParse(text.Replace(',', '.'), out _)) return reason + " (use a dot for decimals)";
        if (text.Contains('_') && NumberText.TryParse(text.Replace("_", ""), out _)) return reason + $" (write it without '_': {text.Replace("_", "")})";
        return reason;
    }

    /// <summary>The numbers of a metrics file line (other values are left out), or why the line is no JSON object.</summary>
    private static string? ParseJsonLine(string line, out (string Name, double Value)[] pairs)
    {
        pairs = [];
        if (string.IsNullOrWhiteSpace(line)) return null;
        try
        {
            // Python's json.dumps writes NaN and Infinity bare, which JSON does not allow: read them as the strings
            // they would be quoted as, so a diverged trial says it diverged rather than that it reported nothing.
            using var document = JsonDocument.Parse(BareNonFinite().Replace(line, "\"$1\""));
            if (document.RootElement.ValueKind != JsonValueKind.Object) return "a metrics file line is one JSON object";
            var read = new List<(string, double)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number)
                    read.Add((property.Name, property.Value.GetDouble()));
                else if (property.Value.ValueKind == JsonValueKind.String && NumberText.TryParse(property.Value.GetString()!, out var value))
                    read.Add((property.Name, value));
            }
            pairs = [.. read];
            return null;
        }
        catch (JsonException e)
        {
            return $"it is not JSON ({e.Message})";
        }
    }

    /// <summary>Why a line's step or epoch is none (1.5 is not step 1); null where it is a whole number or absent.</summary>
    private static string? StepProblem((string Name, double Value)[] pairs) =>
        pairs.Where(pair => StepNames.Contains(pair.Name) && !(double.IsFinite(pair.Value) && pair.Value == Math.Floor(pair.Value)))
            .Select(pair => $"{pair.Name}={pair.Value.ToString(CultureInfo.InvariantCulture)} is no step: steps are whole numbers")
            .FirstOrDefault();

    private void Record((string Name, double Value)[] pairs)
    {
        long? step = null;
        foreach (var (name, value) in pairs)
            if (StepNames.Contains(name))
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
        CountRefused(line);
        foreach (var (name, value) in line.Final)
        {
            if (!Keeps(name)) continue;
            // A value with no step recorded (a cache entry's metrics, set as final) is the step's last word.
            var at = line._finalSteps.GetValueOrDefault(name, long.MaxValue);
            if (_finalSteps.TryGetValue(name, out var mine) && mine > at) continue;
            Final[name] = value;
            _finalSteps[name] = at;
        }
        // A curve's name is among its report's final names, kept above or refused.
        foreach (var (name, points) in line.Intermediate.Where(curve => Final.ContainsKey(curve.Key)))
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

    /// <summary>Adds what a later step reported: its values win, its curves and rejected lines are appended.</summary>
    public void Merge(MetricReport later)
    {
        foreach (var rejected in later._rejected) Keep(rejected);
        CountRefused(later);
        foreach (var (name, value) in later.Final)
        {
            if (!Keeps(name)) continue;
            Final[name] = value;
            _finalSteps[name] = later._finalSteps.GetValueOrDefault(name, long.MaxValue);
        }
        foreach (var (name, points) in later.Intermediate.Where(curve => Final.ContainsKey(curve.Key)))
        {
            if (!Intermediate.TryGetValue(name, out var mine)) Intermediate[name] = mine = [];
            mine.AddRange(points);
        }
    }

    public override string ToString() =>
        string.Join(" ", Final.Select(m => $"{m.Key}={m.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
}
