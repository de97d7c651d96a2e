using System.Globalization;
using System.Text.Json;
using Tuning.Algorithms.Space;
using YamlDotNet.RepresentationModel;

namespace Tuning.Trials.Studies;

/// <summary>
/// The two ways a study file seeds a study with points a user already knows: <c>enqueue</c> (parameter sets run
/// first, as trials) and <c>warmStart</c> (an earlier study's trials, observed but not run). Both are checked against
/// this study's space, parameter by parameter, so a study never runs or learns from a point it could not have suggested.
/// </summary>
public static partial class StudyFile
{
    /// <summary>The largest study.json a warm start reads: one of 10,000 trials with learning curves fits well inside.</summary>
    public const long MaxWarmStartBytes = 256L << 20;

    /// <summary>Value problems listed one by one before the rest are counted: a wholly different space says so in a few lines.</summary>
    private const int ListedValueProblems = 5;

    private static IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>>? ReadEnqueue(
        YamlReader r, YamlNode? node, SearchSpace? space, BudgetSpec? budget, AlgorithmSpec? algorithm)
    {
        const string path = "enqueue";
        var items = r.Sequence(node, path);
        if (items is null) return null;
        if (algorithm?.Name == "grid" && items.Count > 0)
            r.Error(path, node, "grid search runs every grid point in order and takes no enqueued parameter sets");
        if (budget is not null && items.Count > budget.MaxTrials)
            r.Error(path, node, $"lists {items.Count} parameter sets, more than budget.maxTrials ({budget.MaxTrials}): each runs as a trial of the study");
        if (space is null) return null;

        var names = space.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var sets = new List<IReadOnlyDictionary<string, ParameterValue>>();
        foreach (var (item, itemPath) in items)
        {
            if (item is not YamlMappingNode map)
            {
                r.Error(itemPath, item, $"must be a parameter set: a mapping of every parameter to its value ({string.Join(", ", names)})");
                continue;
            }
            var values = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
            var valid = true;
            foreach (var (key, _) in map.Children)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (names.Contains(name)) continue;
                r.Error(YamlReader.Join(itemPath, name), key, $"no parameter named '{name}' in this study; parameters: {string.Join(", ", space.Parameters.Select(p => p.Name))}");
                valid = false;
            }
            foreach (var parameter in space.Parameters)
            {
                var fieldPath = YamlReader.Join(itemPath, parameter.Name);
                var valueNode = YamlReader.Field(map, parameter.Name);
                if (valueNode is null)
                {
                    r.Error(itemPath, item, $"missing parameter '{parameter.Name}': an enqueued set gives every parameter a value");
                    valid = false;
                    continue;
                }
                var text = r.String(valueNode, fieldPath);
                if (text is null)
                {
                    if (valueNode is YamlScalarNode) r.Error(fieldPath, valueNode, "empty: expected a value");
                    valid = false;
                    continue;
                }
                var value = FromText(parameter, text);
                if (parameter.Problem(value) is { } problem)
                {
                    r.Error(fieldPath, valueNode, $"{problem} (parameter '{parameter.Name}')");
                    valid = false;
                }
                values[parameter.Name] = value;
            }
            if (valid) sets.Add(values);
        }
        return sets.Count == items.Count ? sets : null;
    }

    /// <summary>A value as text (YAML, or a string in study.json): a number for numeric parameters where it reads as one, else a name.</summary>
    private static ParameterValue FromText(Parameter parameter, string text) =>
        !parameter.IsCategorical && NumberText.TryParse(text, out var number) ? ParameterValue.Of(number) : ParameterValue.Of(text);

    private static WarmStartSpec? ReadWarmStart(YamlReader r, YamlNode? node, SearchSpace? space, ObjectiveSpec? objective, string studyDirectory, bool read)
    {
        const string path = "warmStart";
        var map = r.Mapping(node, path, ["from"]);
        if (map is null) return null;
        var fromNode = r.Required(map, path, "from", "the study.json of an earlier study in the same space (what tuner run --out writes)");
        var from = r.String(fromNode, "warmStart.from");
        if (from is null) return null;
        if (from.Trim().Length == 0)
        {
            r.Error("warmStart.from", fromNode, "empty: expected the path of an earlier study's study.json");
            return null;
        }
        var full = Path.GetFullPath(Path.Combine(studyDirectory, from));
        if (!read) return new WarmStartSpec(full, null);
        if (space is null || objective is null) return null; // their own errors are reported; nothing to check against
        var trials = ReadEarlierStudy(message => r.Error("warmStart.from", fromNode, message), from, full, space, objective);
        return trials is null ? null : new WarmStartSpec(full, trials);
    }

    private const string WarmStartReads = "warmStart reads the study.json that tuner run --out writes";

    /// <summary>
    /// Where in <paramref name="full"/> the JSON parser stopped, as "line L, column C" counted from 1, the column in
    /// characters (the parser counts bytes, and a line of non-ASCII text has more bytes than characters).
    /// </summary>
    private static string JsonPosition(string full, JsonException e)
    {
        var line = e.LineNumber ?? 0;
        var bytes = e.BytePositionInLine ?? 0;
        var column = bytes + 1;
        try
        {
            using var stream = File.OpenRead(full);
            // The parser skips a UTF-8 byte order mark and does not count it.
            Span<byte> bom = stackalloc byte[3];
            if (stream.ReadAtLeast(bom, 3, throwOnEndOfStream: false) < 3 || !bom.SequenceEqual("\uFEFF"u8)) stream.Position = 0;
            for (var at = 0L; at < line;)
            {
                var b = stream.ReadByte();
                if (b < 0) break;
                if (b == '\n') at++;
            }
            var prefix = new byte[(int)Math.Min(bytes, 1 << 20)];
            var read = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
            column = System.Text.Encoding.UTF8.GetCharCount(prefix, 0, read) + 1;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            // Gone since it was parsed: the byte's column is near enough.
        }
        return string.Create(CultureInfo.InvariantCulture, $"line {line + 1}, column {column}");
    }

    /// <summary>
    /// The finished trials (succeeded, stopped early, failed) of a study.json, checked against <paramref name="space"/>:
    /// every parameter of the space present, no other, and every value one the space takes. Null, with each problem
    /// reported, where the file cannot be used.
    /// </summary>
    private static List<WarmStartTrial>? ReadEarlierStudy(Action<string> error, string from, string full, SearchSpace space, ObjectiveSpec objective)
    {
        JsonDocument document;
        try
        {
            if (Directory.Exists(full))
            {
                error($"{from} is a folder, not a study.json");
                return null;
            }
            var info = new FileInfo(full);
            if (!info.Exists)
            {
                error($"no such file: {full}");
                return null;
            }
            if (info.Length > MaxWarmStartBytes)
            {
                error($"{from} is larger than {MaxWarmStartBytes >> 20} MiB, the most a warm start reads");
                return null;
            }
            if (info.Length == 0)
            {
                error($"{from} is empty; {WarmStartReads}");
                return null;
            }
            using var stream = File.OpenRead(full);
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            // The parser's own message ("'n' is an invalid start of a value. LineNumber: 0 | ...") speaks of bytes
            // counted from 0: a YAML file or a log named by mistake is told as such, at a line and column of its own.
            error($"{from} is not a study.json (not JSON at {JsonPosition(full, e)}); {WarmStartReads}");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error($"cannot read {from}: {e.Message}");
            return null;
        }

        using (document)
        {
            if (document.RootElement is not { ValueKind: JsonValueKind.Object } root ||
                !root.TryGetProperty("trials", out var trialList) || trialList.ValueKind != JsonValueKind.Array)
            {
                error($"{from} is not a study.json (the file tuner run --out writes): it has no \"trials\" list");
                return null;
            }

            var trials = new List<WarmStartTrial>();
            var missing = new Dictionary<string, int>(StringComparer.Ordinal);
            var extra = new Dictionary<string, int>(StringComparer.Ordinal);
            var valueProblems = new List<string>();
            var index = 0;
            foreach (var trial in trialList.EnumerateArray())
            {
                var number = trial.ValueKind == JsonValueKind.Object && trial.TryGetProperty("number", out var n) && n.TryGetInt32(out var k) ? k : index;
                index++;
                var status = trial.ValueKind == JsonValueKind.Object && trial.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                // Only trials that ended as a trial ends: running, pending or cancelled ones have nothing to teach.
                if (status is not ("Succeeded" or "EarlyStopped" or "Failed")) continue;
                if (!trial.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
                {
                    valueProblems.Add($"trial {number} has no \"parameters\" mapping");
                    continue;
                }
                var values = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
                var valid = true;
                foreach (var property in parameters.EnumerateObject())
                    if (!space.Parameters.Any(p => p.Name == property.Name))
                    {
                        extra.TryAdd(property.Name, number);
                        valid = false;
                    }
                foreach (var parameter in space.Parameters)
                {
                    if (!parameters.TryGetProperty(parameter.Name, out var element))
                    {
                        missing.TryAdd(parameter.Name, number);
                        valid = false;
                        continue;
                    }
                    var value = element.ValueKind switch
                    {
                        JsonValueKind.Number when !parameter.IsCategorical => ParameterValue.Of(element.GetDouble()),
                        JsonValueKind.String => FromText(parameter, element.GetString()!),
                        _ => ParameterValue.Of(element.GetRawText()),
                    };
                    if (parameter.Problem(value) is { } problem)
                    {
                        valueProblems.Add($"trial {number}, parameter '{parameter.Name}': {problem}");
                        valid = false;
                    }
                    values[parameter.Name] = value;
                }
                if (!valid) continue;
                double? metric = status != "Failed" && trial.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Object &&
                    metrics.TryGetProperty(objective.Metric, out var m) && m.ValueKind == JsonValueKind.Number && double.IsFinite(m.GetDouble())
                    ? m.GetDouble()
                    : null;
                trials.Add(new WarmStartTrial(number, values, metric));
            }

            // The spaces differ: say how, once per parameter, then the values this space does not take.
            foreach (var (name, first) in missing)
                error($"the space differs from {from}'s: parameter '{name}' is missing from its trials (first: trial {first})");
            foreach (var (name, first) in extra)
                error($"the space differs from {from}'s: its trials have parameter '{name}', which this study does not (first: trial {first})");
            foreach (var problem in valueProblems.Take(ListedValueProblems))
                error($"{from}: {problem}");
            if (valueProblems.Count > ListedValueProblems)
                error($"{from}: {(valueProblems.Count - ListedValueProblems).ToString(CultureInfo.InvariantCulture)} more values this study's space does not take");
            if (missing.Count > 0 || extra.Count > 0 || valueProblems.Count > 0) return null;
            if (!trials.Any(t => t.Value is not null))
            {
                error($"{from} has no finished trial with a value of the objective metric '{objective.Metric}': nothing to learn from");
                return null;
            }
            return trials;
        }
    }
}
