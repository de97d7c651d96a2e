using System.Globalization;
using System.Text.RegularExpressions;
using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Execution;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tuning.Trials.Studies;

/// <summary>
/// Loads a study file (YAML, or JSON, which YAML reads as it is) into a <see cref="StudySpec"/>.
/// Validation reports every problem at once, each with its field path, line and column.
/// </summary>
public static partial class StudyFile
{
    private static readonly string[] TopFields = ["name", "objective", "objectives", "constraints", "algorithm", "earlyStopping", "budget", "enqueue", "warmStart", "parameters", "trial"];

    [GeneratedRegex("^[a-z0-9-]+$")] private static partial Regex StudyName();
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.-]*$")] private static partial Regex Identifier();
    [GeneratedRegex(@"^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$")] private static partial Regex Quantity();
    [GeneratedRegex(@"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$")] private static partial Regex DurationShape();
    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h|d)")] private static partial Regex DurationPart();

    /// <summary>The largest study file read: far beyond any real study, small enough that reading one is harmless.</summary>
    public const int MaxBytes = 4 << 20;

    /// <summary>The most trials a study runs at once: each runs processes, and a study file is no place for a fork bomb.</summary>
    public const int MaxParallelTrials = 1000;

    /// <summary>The most parameters a study may search: far beyond what any suggester can use (Sobol stops at 32).</summary>
    public const int MaxParameters = 1000;

    /// <summary>The most problems reported for one file: enough to fix a file by, small enough to send back whole.</summary>
    public const int MaxErrors = 100;

    /// <summary>The smallest trial disk quota: a trial's logs alone need some room.</summary>
    public const long MinTrialDiskQuota = 1L << 20;

    /// <summary>The longest trial timeout: a .NET timer holds about 49 days, and no trial should be left that long unwatched.</summary>
    public static readonly TimeSpan MaxTrialTimeout = TimeSpan.FromDays(30);

    /// <summary>The longest <c>budget.maxTime</c>: a year, past which a time budget is no budget.</summary>
    public static readonly TimeSpan MaxStudyTime = TimeSpan.FromDays(365);

    /// <summary>
    /// Loads and validates a study file, giving the spec and the text it was read from (what a study keeps);
    /// throws <see cref="StudyFileException"/> with every problem, or the one reason the file cannot be read.
    /// </summary>
    /// <param name="katibExecutor">Where set, the file must be a Katib Experiment, and is kept as the study file it
    /// amounts to with its trials run by this executor (an Experiment names none; read as it is, it runs locally).</param>
    public static (StudySpec Spec, string Text) Load(string path, string? katibExecutor = null)
    {
        var text = ReadText(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (katibExecutor is not null) text = ConvertKatib(text, directory, katibExecutor);
        return (Parse(text, directory), text);
    }

    internal static string ReadText(string path)
    {
        static StudyFileException Problem(string message) => new([new StudyFileError("", 0, 0, message)]);
        if (Directory.Exists(path)) throw Problem($"{path} is a folder, not a study file");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            // Read up to the limit, not by the length the file claims: /dev/zero claims none and never ends.
            var bytes = new byte[MaxBytes + 1];
            var total = 0;
            for (int read; total < bytes.Length && (read = file.Read(bytes, total, bytes.Length - total)) > 0;) total += read;
            if (total > MaxBytes) throw Problem($"{path} is larger than {MaxBytes >> 20} MiB, the most a study file may hold");
            return new StreamReader(new MemoryStream(bytes, 0, total)).ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Problem($"cannot read {path}: {e.Message}");
        }
    }

    /// <summary>Parses study file text; relative paths in its commands resolve against <paramref name="studyDirectory"/>.</summary>
    /// <param name="readWarmStart">Whether to read and check the study.json that <c>warmStart.from</c> names (what a
    /// submission needs); false gives its path alone (what a running study's grains need: the study keeps the
    /// observations it read when it was created, so it does not depend on the file afterwards).</param>
    public static StudySpec Parse(string text, string studyDirectory, bool readWarmStart = true) =>
        Parse(text, studyDirectory, readWarmStart, ExecutorCatalog.Local).Spec;

    /// <summary>
    /// The study file (YAML) a Katib Experiment amounts to, its trials run by <paramref name="executor"/>: what
    /// <c>tuner convert</c> prints, and what a study run with <c>--executor</c> keeps as its text. Throws
    /// <see cref="StudyFileException"/> for an Experiment that cannot run here (each error naming the Katib field)
    /// or a text that is not an Experiment.
    /// </summary>
    public static string ConvertKatib(string text, string studyDirectory, string executor)
    {
        var (_, study) = Parse(text, studyDirectory, readWarmStart: false, executor);
        if (study is null)
            throw new StudyFileException([new StudyFileError("", 0, 0, $"not a Katib Experiment (apiVersion: {KatibExperiment.ApiVersion}, kind: Experiment)")]);
        // Katib writes numbers as strings ("0.01"); the study file reads either, and reads plain ones more easily. An
        // empty, ~ or null value stays quoted: plain, it would read as no value.
        foreach (var scalar in study.AllNodes.OfType<YamlScalarNode>())
            if (scalar.Value is not (null or "" or "~" or "null")) scalar.Style = ScalarStyle.Any;
        var output = new StringWriter();
        new YamlStream(new YamlDocument(study)).Save(output, assignAnchors: false);
        // YamlDotNet ends a document with "...": a study file is one document, which needs no end marker.
        return output.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>The spec, and the study file a Katib Experiment was translated into (null for a study file).</summary>
    private static (StudySpec Spec, YamlMappingNode? Katib) Parse(string text, string studyDirectory, bool readWarmStart, string katibExecutor)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new StudyFileException([new StudyFileError("", 0, 0, "the study file is empty")]);
        var stream = new YamlStream();
        try
        {
            if (TooDeep(text) is { } deep)
                throw new StudyFileException([new StudyFileError("", (int)deep.Line, (int)deep.Column,
                    $"nested more than {MaxDepth} lists or mappings deep; a study file needs a handful")]);
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var cause = e.InnerException?.Message ?? e.Message;
            throw new StudyFileException([new StudyFileError("", (int)e.Start.Line, (int)e.Start.Column, $"YAML syntax error: {cause}")]);
        }
        catch (InvalidOperationException)
        {
            // Some malformed input trips YamlDotNet's scanner without a position; the last token it read is where to look.
            var end = LastScannedPosition(text);
            throw new StudyFileException([new StudyFileError("", (int)end.Line, (int)end.Column, "YAML syntax error: the document ends inside an unclosed {, [ or quote")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" or "~" })
            throw new StudyFileException([new StudyFileError("", 0, 0, "the study file is empty")]);
        if (stream.Documents.Count > 1)
            throw new StudyFileException([new StudyFileError("", (int)stream.Documents[1].RootNode.Start.Line, 1,
                "the study file holds more than one YAML document")]);

        var reader = new YamlReader();
        var root = stream.Documents[0].RootNode;
        StudySpec? spec = null;
        YamlMappingNode? katib = null;
        if (KatibExperiment.Is(root))
        {
            (katib, var katibPath) = KatibExperiment.Translate(reader, (YamlMappingNode)root, katibExecutor);
            // What the Experiment asks for and cannot have is reported alone: its study file is only partly made.
            if (reader.Errors.Count == 0 && katib is not null)
            {
                spec = Read(reader, katib, studyDirectory, readWarmStart);
                reader.RenamePaths(katibPath);
            }
        }
        else spec = Read(reader, root, studyDirectory, readWarmStart);
        // In the order of the file (errors that have no position last), as a user fixes them.
        if (reader.Errors.Count > 0 || spec is null)
        {
            var errors = reader.Errors.OrderBy(e => e.Line == 0).ThenBy(e => e.Line).ThenBy(e => e.Column).ToList();
            // A hostile file can hold a million mistakes; the first ones are what a user fixes first.
            if (errors.Count > MaxErrors)
            {
                var more = errors.Count - MaxErrors;
                errors.RemoveRange(MaxErrors, more);
                errors.Add(new StudyFileError("", 0, 0, $"and {more} more problems not listed (the first {MaxErrors} are)"));
            }
            throw new StudyFileException(errors);
        }
        return (spec, katib);
    }

    /// <summary>Deeper than any study file: YamlDotNet's document loader recurses per level and would overflow the stack.</summary>
    private const int MaxDepth = 64;

    /// <summary>Where the text first nests deeper than <see cref="MaxDepth"/>, read event by event (which does not recurse); null if it never does.</summary>
    private static Mark? TooDeep(string text)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.SequenceStart or YamlDotNet.Core.Events.MappingStart when ++depth > MaxDepth:
                    return parser.Current.Start;
                case YamlDotNet.Core.Events.SequenceEnd or YamlDotNet.Core.Events.MappingEnd:
                    depth--;
                    break;
            }
        }
        return null;
    }

    private static Mark LastScannedPosition(string text)
    {
        var scanner = new Scanner(new StringReader(text));
        var last = Mark.Empty;
        try
        {
            while (scanner.MoveNext()) last = scanner.Current!.End;
        }
        catch (Exception e) when (e is InvalidOperationException or YamlException)
        {
        }
        return last;
    }

    private static StudySpec? Read(YamlReader r, YamlNode root, string studyDirectory, bool readWarmStart)
    {
        var top = r.Mapping(root, "", TopFields, required: "a study: a mapping with the fields " + string.Join(", ", TopFields));
        if (top is null) return null;

        var name = r.String(r.Required(top, "", "name", "the study name ([a-z0-9-])"), "name");
        if (name is not null && !StudyName().IsMatch(name))
            r.Error("name", YamlReader.Field(top, "name"), $"'{name}' may hold only lower-case letters, digits and '-'");

        var (objective, objectives) = ReadObjectives(r, top);
        var constraints = ReadConstraints(r, YamlReader.Field(top, "constraints"), objectives ?? (objective is null ? [] : [objective]));
        var parametersNode = r.Required(top, "", "parameters", "the parameters to search");
        var space = ReadParameters(r, parametersNode);
        var algorithm = ReadAlgorithm(r, YamlReader.Field(top, "algorithm"), space);
        var earlyStopping = ReadEarlyStopping(r, YamlReader.Field(top, "earlyStopping"));
        var budget = ReadBudget(r, r.Required(top, "", "budget", "the budget (at least maxTrials)"));
        var pipeline = ReadPipeline(r, r.Required(top, "", "trial", "the trial pipeline (steps)"), DeclaredNames(parametersNode), studyDirectory);
        var enqueue = ReadEnqueue(r, YamlReader.Field(top, "enqueue"), space, budget, algorithm);
        var warmStart = ReadWarmStart(r, YamlReader.Field(top, "warmStart"), space, objective, studyDirectory, readWarmStart);

        if (name is null || objective is null || space is null || algorithm is null || budget is null || pipeline is null)
            return null;
        return new StudySpec(name, objective, algorithm, earlyStopping, budget, space, pipeline, studyDirectory, enqueue, warmStart, objectives, constraints);
    }

    /// <summary>The fewest and most objectives of <c>objectives:</c>: one is <c>objective:</c>'s, and past four a Pareto front
    /// holds most trials and its hypervolume costs more than it tells.</summary>
    public const int MinObjectives = 2, MaxObjectives = 4;

    /// <summary><c>objective:</c> (one) or <c>objectives:</c> (several): the first objective, and all of them where there are several.</summary>
    private static (ObjectiveSpec? First, IReadOnlyList<ObjectiveSpec>? Several) ReadObjectives(YamlReader r, YamlMappingNode top)
    {
        var single = YamlReader.Field(top, "objective");
        var severalNode = YamlReader.Field(top, "objectives");
        if (severalNode is null)
            return (ReadObjective(r, r.Required(top, "", "objective", "the objective (metric and goal), or objectives: several"), "objective", oneOfSeveral: false), null);
        if (single is not null)
        {
            r.Error("objectives", severalNode, "give objective: (one) or objectives: (several), not both");
            return (null, null);
        }
        var items = r.Sequence(severalNode, "objectives");
        if (items is null) return (null, null);
        if (items.Count is < MinObjectives or > MaxObjectives)
        {
            r.Error("objectives", severalNode, $"lists {items.Count} objectives; give {MinObjectives} to {MaxObjectives} (a single one as objective:)");
            return (null, null);
        }
        foreach (var (item, path) in items) r.NameEntry(path, item, "metric");
        var objectives = items.Select(item => ReadObjective(r, item.Node, item.Path, oneOfSeveral: true)).ToArray();
        for (var i = 0; i < objectives.Length; i++)
            if (objectives[i] is { } objective && objectives.Take(i).Any(o => o?.Metric == objective.Metric))
                r.Error($"{items[i].Path}.metric", YamlReader.Field((YamlMappingNode)items[i].Node, "metric"), $"'{objective.Metric}' is already an objective");
        return objectives.Any(o => o is null) ? (null, null) : (objectives[0], objectives.OfType<ObjectiveSpec>().ToArray());
    }

    /// <param name="oneOfSeveral">Whether the objective is one of several, which may give a hypervolume reference and no
    /// target (a study of several objectives has no single value to reach).</param>
    private static ObjectiveSpec? ReadObjective(YamlReader r, YamlNode? node, string path, bool oneOfSeveral)
    {
        var map = r.Mapping(node, path, oneOfSeveral ? ["metric", "goal", "reference"] : ["metric", "goal", "target", "additionalMetrics"]);
        if (map is null) return null;
        var metric = ReadName(r, map, path, "metric", "metric");
        var goalPath = YamlReader.Join(path, "goal");
        var goalText = r.String(r.Required(map, path, "goal", "minimize or maximize"), goalPath);
        Goal? goal = goalText switch
        {
            null => null,
            "minimize" => Goal.Minimize,
            "maximize" => Goal.Maximize,
            _ => null,
        };
        if (goalText is not null && goal is null)
            r.Error(goalPath, YamlReader.Field(map, "goal"), $"must be minimize or maximize, got '{goalText}'");
        var target = r.Number(YamlReader.Field(map, "target"), YamlReader.Join(path, "target"));
        var additional = r.StringList(YamlReader.Field(map, "additionalMetrics"), YamlReader.Join(path, "additionalMetrics")) ?? [];
        var referenceValue = r.Number(YamlReader.Field(map, "reference"), YamlReader.Join(path, "reference"));
        return metric is null || goal is null ? null : new ObjectiveSpec(metric, goal.Value, target, additional, referenceValue);
    }

    /// <summary><c>constraints:</c>, each a metric with <c>max</c>, <c>min</c> or both; null where the file lists none.</summary>
    private static IReadOnlyList<ConstraintSpec>? ReadConstraints(YamlReader r, YamlNode? node, IReadOnlyList<ObjectiveSpec> objectives)
    {
        var items = r.Sequence(node, "constraints");
        if (items is null) return null;
        var constraints = new List<ConstraintSpec>();
        foreach (var (item, path) in items)
        {
            r.NameEntry(path, item, "metric");
            var map = r.Mapping(item, path, ["metric", "max", "min", "monotone"]);
            if (map is null) continue;
            var metric = ReadName(r, map, path, "metric", "metric");
            var max = r.Number(YamlReader.Field(map, "max"), YamlReader.Join(path, "max"));
            var min = r.Number(YamlReader.Field(map, "min"), YamlReader.Join(path, "min"));
            var monotone = r.Bool(YamlReader.Field(map, "monotone"), YamlReader.Join(path, "monotone")) ?? false;
            if (YamlReader.Field(map, "max") is null && YamlReader.Field(map, "min") is null)
                r.Error(path, map, "missing: a bound, max or min (or both)");
            else if (max < min)
                r.Error(YamlReader.Join(path, "max"), YamlReader.Field(map, "max"), $"{Format(max.Value)} is below min {Format(min!.Value)}: no value holds both");
            if (metric is not null && objectives.Any(o => o.Metric == metric))
                r.Error(YamlReader.Join(path, "metric"), YamlReader.Field(map, "metric"), $"'{metric}' is an objective; a constraint bounds another metric");
            if (metric is not null && constraints.Any(c => c.Metric == metric))
                r.Error(YamlReader.Join(path, "metric"), YamlReader.Field(map, "metric"), $"'{metric}' is constrained already; give both bounds in one entry");
            if (metric is not null && (max is not null || min is not null)) constraints.Add(new ConstraintSpec(metric, max, min, monotone));
        }
        return constraints;
    }

    private static AlgorithmSpec? ReadAlgorithm(YamlReader r, YamlNode? node, SearchSpace? space)
    {
        const string path = "algorithm";
        var map = r.Mapping(node, path, ["name", "seed", "settings"]);
        var name = map is null ? "random" : r.String(r.Required(map, path, "name", "one of " + string.Join(", ", AlgorithmCatalog.Names)), "algorithm.name");
        var seed = r.Int(YamlReader.Field(map, "seed"), "algorithm.seed", 0);
        var settings = r.ScalarMap(YamlReader.Field(map, "settings"), "algorithm.settings");
        if (name is null) return null;
        var algorithm = AlgorithmCatalog.Find(name);
        if (algorithm is null)
        {
            r.Error("algorithm.name", YamlReader.Field(map, "name"), $"unknown algorithm '{name}'; allowed: {string.Join(", ", AlgorithmCatalog.Names)}");
            return null;
        }
        if (space is not null)
            foreach (var error in algorithm.Validate(settings, space))
                r.Error(error.Path, error.Message);
        return new AlgorithmSpec(name, seed, settings);
    }

    private static EarlyStoppingSpec? ReadEarlyStopping(YamlReader r, YamlNode? node)
    {
        const string path = "earlyStopping";
        var map = r.Mapping(node, path, ["name", "settings"]);
        if (map is null) return null;
        var name = r.String(r.Required(map, path, "name", string.Join(" or ", EarlyStoppingCatalog.Names)), "earlyStopping.name");
        var settings = r.ScalarMap(YamlReader.Field(map, "settings"), "earlyStopping.settings");
        if (name is not null && !EarlyStoppingCatalog.Names.Contains(name))
        {
            r.Error("earlyStopping.name", YamlReader.Field(map, "name"), $"unknown early stopping rule '{name}'; allowed: {string.Join(", ", EarlyStoppingCatalog.Names)}");
            return null;
        }
        if (name is null) return null;
        foreach (var error in EarlyStoppingCatalog.Create(name, settings).Errors) r.Error(error.Path, error.Message);
        return new EarlyStoppingSpec(name, settings);
    }

    private static BudgetSpec? ReadBudget(YamlReader r, YamlNode? node)
    {
        const string path = "budget";
        var map = r.Mapping(node, path, ["maxTrials", "maxSteps", "maxTime", "parallelTrials", "maxFailedTrials", "trialTimeout", "maxRetries", "trialDiskQuota"]);
        if (map is null) return null;
        var maxTrials = r.Int(r.Required(map, path, "maxTrials", "how many trials to run (at least 1)"), "budget.maxTrials", 1);
        var parallel = r.Int(YamlReader.Field(map, "parallelTrials"), "budget.parallelTrials", 1) ?? 1;
        if (parallel > MaxParallelTrials)
        {
            r.Error("budget.parallelTrials", YamlReader.Field(map, "parallelTrials"), $"{parallel} trials at once is more than the {MaxParallelTrials} a study may run at once");
            parallel = 1;
        }
        var quota = BudgetSpec.DefaultTrialDiskQuota;
        if (r.String(YamlReader.Field(map, "trialDiskQuota"), "budget.trialDiskQuota") is { } quotaText)
        {
            if (SizeBytes(quotaText) is not { } bytes)
                r.Error("budget.trialDiskQuota", YamlReader.Field(map, "trialDiskQuota"), $"'{quotaText}' is not a size; write it like 500M or 10G (binary units K, M, G or T)");
            else if (bytes < MinTrialDiskQuota)
                r.Error("budget.trialDiskQuota", YamlReader.Field(map, "trialDiskQuota"), $"'{quotaText}' is less than the smallest quota, 1M");
            else quota = bytes;
        }
        var maxFailed = r.Int(YamlReader.Field(map, "maxFailedTrials"), "budget.maxFailedTrials", 0);
        var maxRetries = r.Int(YamlReader.Field(map, "maxRetries"), "budget.maxRetries", 0) ?? BudgetSpec.DefaultMaxRetries;
        var timeout = ReadDuration(r, map, "trialTimeout", MaxTrialTimeout, "the longest trial timeout");
        var maxSteps = r.Int(YamlReader.Field(map, "maxSteps"), "budget.maxSteps", 1);
        var maxTime = ReadDuration(r, map, "maxTime", MaxStudyTime, "the longest study time");
        // By default a study tolerates a tenth of its trials failing (at least 3) before it gives up.
        return maxTrials is null ? null : new BudgetSpec(maxTrials.Value, parallel, maxFailed ?? Math.Max(3, maxTrials.Value / 10), timeout, quota, maxRetries, maxSteps, maxTime);
    }

    /// <summary>A duration of the budget (90s, 1h30m, 500ms, or seconds), from a millisecond to <paramref name="longest"/>; null where absent or wrong.</summary>
    private static TimeSpan? ReadDuration(YamlReader r, YamlMappingNode map, string field, TimeSpan longest, string longestName)
    {
        var path = "budget." + field;
        var node = YamlReader.Field(map, field);
        if (r.String(node, path) is not { } text) return null;
        var seconds = DurationSeconds(text);
        if (seconds is null)
            r.Error(path, node, $"'{text}' is not a duration; write it like 90s, 10m, 1h30m or 500ms");
        else if (seconds < 0.001)
            r.Error(path, node, $"'{text}' is shorter than a millisecond");
        else if (seconds > longest.TotalSeconds)
            r.Error(path, node, $"'{text}' is longer than {longestName}, {longest.TotalDays:0}d");
        else return TimeSpan.FromSeconds(seconds.Value);
        return null;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)$", RegexOptions.IgnoreCase)]
    private static partial Regex SizeShape();

    /// <summary>A size like 10G, 500M, 1.5T or 4096 (bytes); units are binary (1K = 1024 bytes); null where the text is none.</summary>
    public static long? SizeBytes(string text)
    {
        var match = SizeShape().Match(text.Trim());
        if (!match.Success) return null;
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var unit = match.Groups[2].Value.ToUpperInvariant() switch { "K" => 1L << 10, "M" => 1L << 20, "G" => 1L << 30, "T" => 1L << 40, _ => 1L };
        var bytes = number * unit;
        return bytes < long.MaxValue ? (long)bytes : null;
    }

    /// <summary>A size as a person reads it: <c>10 MiB</c>, <c>47.7 MiB</c>, <c>1.5 GiB</c>.</summary>
    public static string FormatSize(long bytes)
    {
        static string Number(double value) => value.ToString(value == Math.Floor(value) ? "0" : "0.0", CultureInfo.InvariantCulture);
        return bytes >= 1L << 40 ? $"{Number(bytes / (double)(1L << 40))} TiB"
            : bytes >= 1L << 30 ? $"{Number(bytes / (double)(1L << 30))} GiB"
            : bytes >= 1L << 20 ? $"{Number(bytes / (double)(1L << 20))} MiB"
            : bytes >= 1L << 10 ? $"{Number(bytes / 1024.0)} KiB"
            : $"{bytes} B";
    }

    /// <summary>
    /// A duration in seconds (<c>90s</c>, <c>1h30m</c>, <c>500ms</c>, or a bare number of seconds), or null where the
    /// text is none or not positive. Summed as a double, so <c>99999999d</c> is a large number, never an overflow.
    /// </summary>
    public static double? DurationSeconds(string text)
    {
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            return seconds > 0 ? seconds : null;
        if (!DurationShape().IsMatch(text)) return null;
        var total = 0.0;
        foreach (Match part in DurationPart().Matches(text))
            total += double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture) * part.Groups[2].Value switch
            {
                "ms" => 0.001,
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => 86400,
            };
        return total > 0 ? total : null;
    }

    private static SearchSpace? ReadParameters(YamlReader r, YamlNode? node)
    {
        var items = r.Sequence(node, "parameters");
        if (items is null) return null;
        if (items.Count == 0)
        {
            r.Error("parameters", node, "must list at least one parameter");
            return null;
        }
        if (items.Count > MaxParameters)
        {
            r.Error("parameters", node, $"{items.Count} parameters are more than the {MaxParameters} a study may search");
            return null;
        }
        var parameters = new List<Parameter>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var valid = true;
        foreach (var (item, path) in items)
        {
            r.NameEntry(path, item);
            var parameter = ReadParameter(r, item, path);
            valid &= parameter is not null;
            if (parameter is null) continue;
            if (seen.TryGetValue(parameter.Name, out var first))
            {
                r.Error(path + ".name", $"duplicate parameter name '{parameter.Name}' (first at {first})");
                valid = false;
            }
            else seen[parameter.Name] = path;
            parameters.Add(parameter);
        }
        return valid ? new SearchSpace(parameters) : null;
    }

    private static Parameter? ReadParameter(YamlReader r, YamlNode node, string path)
    {
        var type = (node as YamlMappingNode) is { } raw ? (YamlReader.Field(raw, "type") as YamlScalarNode)?.Value : null;
        string[] fields = type switch
        {
            "double" or "int" => ["name", "type", "min", "max", "scale", "step"],
            "discrete" or "categorical" => ["name", "type", "values"],
            _ => ["name", "type", "min", "max", "scale", "step", "values"],
        };
        var map = r.Mapping(node, path, fields, type is null ? null : $"a {type} parameter", required: "a parameter: a mapping with name and type");
        if (map is null) return null;
        var name = ReadName(r, map, path, "name", "parameter");
        var typeText = r.String(r.Required(map, path, "type", "double, int, discrete or categorical"), path + ".type");
        return typeText switch
        {
            null => null,
            "double" => ReadDouble(r, map, path, name),
            "int" => ReadInt(r, map, path, name),
            "discrete" => ReadDiscrete(r, map, path, name),
            "categorical" => ReadCategorical(r, map, path, name),
            _ => Fail(r, path + ".type", YamlReader.Field(map, "type"), $"unknown parameter type '{typeText}'; allowed: double, int, discrete, categorical"),
        };
    }

    /// <summary>A required name field (of a parameter, step or metric): a letter or '_', then letters, digits, '_', '.', '-'.</summary>
    /// <summary>A name as the study file allows for parameters, steps and metrics: a letter or '_', then letters, digits, '_', '.' or '-'.</summary>
    public static bool IsName(string name) => Identifier().IsMatch(name);

    private static string? ReadName(YamlReader r, YamlMappingNode map, string path, string field, string what)
    {
        var fieldPath = YamlReader.Join(path, field);
        var name = r.String(r.Required(map, path, field, $"the {what} name"), fieldPath);
        if (name is not null && !Identifier().IsMatch(name))
            r.Error(fieldPath, YamlReader.Field(map, field), $"'{name}' is not a {what} name (a letter or '_', then letters, digits, '_', '.' or '-')");
        return name;
    }

    private static Parameter? Fail(YamlReader r, string path, YamlNode? node, string message)
    {
        r.Error(path, node, message);
        return null;
    }

    private static bool? ReadLogScale(YamlReader r, YamlMappingNode map, string path)
    {
        var scale = r.String(YamlReader.Field(map, "scale"), path + ".scale") ?? "linear";
        if (scale is "linear" or "log") return scale == "log";
        r.Error(path + ".scale", YamlReader.Field(map, "scale"), $"must be linear or log, got '{scale}'");
        return null;
    }

    private static (double Min, double Max)? ReadBounds(YamlReader r, YamlMappingNode map, string path, bool log, bool strict)
    {
        var min = r.Number(r.Required(map, path, "min", "the lower bound"), path + ".min");
        var max = r.Number(r.Required(map, path, "max", "the upper bound"), path + ".max");
        if (min is null || max is null) return null;
        var ok = true;
        foreach (var (value, field) in new[] { (min.Value, "min"), (max.Value, "max") })
            if (!double.IsFinite(value))
            {
                r.Error($"{path}.{field}", YamlReader.Field(map, field), "must be a finite number");
                ok = false;
            }
        if (ok && (strict ? min >= max : min > max))
        {
            r.Error(path + ".min", YamlReader.Field(map, "min"), $"min ({Format(min.Value)}) must be {(strict ? "less than" : "at most")} max ({Format(max.Value)})");
            ok = false;
        }
        if (ok && log && min <= 0)
        {
            r.Error(path + ".min", YamlReader.Field(map, "min"), $"log scale needs min > 0, got {Format(min.Value)}");
            ok = false;
        }
        return ok ? (min.Value, max.Value) : null;
    }

    private static Parameter? ReadDouble(YamlReader r, YamlMappingNode map, string path, string? name)
    {
        var log = ReadLogScale(r, map, path);
        var bounds = ReadBounds(r, map, path, log ?? false, strict: true);
        var step = r.Number(YamlReader.Field(map, "step"), path + ".step");
        if (step is <= 0 || step is { } s && !double.IsFinite(s))
        {
            r.Error(path + ".step", YamlReader.Field(map, "step"), "step must be a positive number");
            return null;
        }
        return name is null || log is null || bounds is null ? null : new DoubleParameter(name, bounds.Value.Min, bounds.Value.Max, log.Value, step);
    }

    private static Parameter? ReadInt(YamlReader r, YamlMappingNode map, string path, string? name)
    {
        var log = ReadLogScale(r, map, path);
        var bounds = ReadBounds(r, map, path, log ?? false, strict: false);
        var whole = true;
        if (bounds is { } b)
            foreach (var (value, field) in new[] { (b.Min, "min"), (b.Max, "max") })
                if (Math.Floor(value) != value || Math.Abs(value) > 1e15)
                {
                    r.Error($"{path}.{field}", YamlReader.Field(map, field), $"an int parameter needs whole-number bounds, got {Format(value)}");
                    whole = false;
                }
        var step = r.Number(YamlReader.Field(map, "step"), path + ".step") ?? 1;
        if (step < 1 || Math.Floor(step) != step)
        {
            r.Error(path + ".step", YamlReader.Field(map, "step"), $"an int step must be a whole number of at least 1, got {Format(step)}");
            return null;
        }
        if (log == true && step != 1)
        {
            r.Error(path + ".step", YamlReader.Field(map, "step"), "a log-scale int parameter takes no step");
            return null;
        }
        return name is null || log is null || bounds is null || !whole
            ? null
            : new IntParameter(name, (long)bounds.Value.Min, (long)bounds.Value.Max, log.Value, (long)step);
    }

    private static Parameter? ReadDiscrete(YamlReader r, YamlMappingNode map, string path, string? name)
    {
        var items = r.Sequence(r.Required(map, path, "values", "the list of allowed numbers"), path + ".values");
        if (items is null) return null;
        if (items.Count == 0) return Fail(r, path + ".values", YamlReader.Field(map, "values"), "must list at least one value");
        var values = items.Select(item => r.Number(item.Node, item.Path)).ToArray();
        if (values.Any(v => v is null)) return null;
        return name is null ? null : new DiscreteParameter(name, values.Select(v => v!.Value));
    }

    private static Parameter? ReadCategorical(YamlReader r, YamlMappingNode map, string path, string? name)
    {
        var node = r.Required(map, path, "values", "the list of categories");
        var values = r.StringList(node, path + ".values");
        if (values is null) return null;
        if (values.Count == 0) return Fail(r, path + ".values", node, "must list at least one category");
        var duplicate = values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) return Fail(r, path + ".values", node, $"category '{duplicate.Key}' is listed twice");
        return name is null ? null : new CategoricalParameter(name, values);
    }

    /// <summary>
    /// The parameter names the file declares, read even where a parameter has other errors, so placeholders are
    /// checked (and every problem reported) in one pass; null where there is no parameter list at all.
    /// </summary>
    private static IReadOnlySet<string>? DeclaredNames(YamlNode? parameters) =>
        parameters is YamlSequenceNode list
            ? list.Children.OfType<YamlMappingNode>().Select(p => YamlReader.Field(p, "name")).OfType<YamlScalarNode>()
                .Select(n => n.Value).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : null;

    private static PipelineSpec? ReadPipeline(YamlReader r, YamlNode? node, IReadOnlySet<string>? parameters, string studyDirectory)
    {
        const string path = "trial";
        var map = r.Mapping(node, path, ["executor", "kubernetes", "steps", "external", "notebook"]);
        if (map is null) return null;
        if (YamlReader.Field(map, "external") is { } externalNode) return ReadExternal(r, map, externalNode);
        var executor = r.String(YamlReader.Field(map, "executor"), "trial.executor") ?? ExecutorCatalog.Local;
        if (!ExecutorCatalog.Names.Contains(executor))
            r.Error("trial.executor", YamlReader.Field(map, "executor"), $"unknown executor '{executor}'; allowed: {string.Join(", ", ExecutorCatalog.Names)}");
        KubernetesSpec? kubernetes = null;
        var kubernetesMap = r.Mapping(YamlReader.Field(map, "kubernetes"), "trial.kubernetes", ["namespace", "volumeClaim"]);
        if (kubernetesMap is not null)
        {
            if (executor != "kubernetes")
                r.Error("trial.kubernetes", kubernetesMap, "only used with executor: kubernetes");
            kubernetes = new KubernetesSpec(
                r.String(YamlReader.Field(kubernetesMap, "namespace"), "trial.kubernetes.namespace"),
                r.String(YamlReader.Field(kubernetesMap, "volumeClaim"), "trial.kubernetes.volumeClaim"));
        }

        var stepsNode = YamlReader.Field(map, "notebook") is { } notebookNode
            ? NotebookSteps(r, map, notebookNode, studyDirectory, parameters)
            : r.Required(map, path, "steps", "the steps each trial runs (or notebook: a Kale-tagged notebook)");
        var stepNodes = r.Sequence(stepsNode, "trial.steps");
        if (stepNodes is null) return null;
        if (stepNodes.Count == 0)
        {
            r.Error("trial.steps", YamlReader.Field(map, "steps"), "no steps: a trial needs at least one step");
            return null;
        }
        foreach (var (item, itemPath) in stepNodes) r.NameEntry(itemPath, item);
        var steps = stepNodes.Select(item => ReadStep(r, item.Node, item.Path)).ToArray();
        if (steps.Any(s => s is null)) return null;
        var pipeline = new PipelineSpec(executor, kubernetes, steps!);
        // A container or a pod runs an image: each step must name one (a local process ignores it).
        if (executor is ExecutorCatalog.Container or ExecutorCatalog.Kubernetes)
            for (var i = 0; i < steps.Length; i++)
                if (string.IsNullOrWhiteSpace(steps[i]!.Image))
                    r.Error($"trial.steps[{i}]", stepNodes[i].Node, $"missing field 'image': executor {executor} runs each step in a container image");
        CheckDependencies(r, pipeline, parameters);
        return pipeline;
    }

    /// <summary><c>trial: {external: {heartbeatTimeout: 5m}}</c>: trials are asked for and told by clients, so nothing else of a pipeline applies.</summary>
    private static PipelineSpec? ReadExternal(YamlReader r, YamlMappingNode trial, YamlNode node)
    {
        foreach (var other in new[] { "steps", "notebook", "executor", "kubernetes" })
            if (YamlReader.Field(trial, other) is { } otherNode)
                r.Error($"trial.{other}", otherNode, "not with trial.external: external trials are run by clients, not by the tuner");
        // external: {} (or a bare "external:") takes the default heartbeat timeout.
        var map = r.Mapping(node, "trial.external", ["heartbeatTimeout"]);
        var timeout = ExternalSpec.DefaultHeartbeatTimeout;
        if (r.String(YamlReader.Field(map, "heartbeatTimeout"), "trial.external.heartbeatTimeout") is { } text)
        {
            var seconds = DurationSeconds(text);
            if (seconds is null)
                r.Error("trial.external.heartbeatTimeout", YamlReader.Field(map, "heartbeatTimeout"), $"'{text}' is not a duration; write it like 90s, 5m or 1h");
            else if (seconds < 0.001 || seconds > MaxTrialTimeout.TotalSeconds)
                r.Error("trial.external.heartbeatTimeout", YamlReader.Field(map, "heartbeatTimeout"),
                    $"'{text}' is not between a millisecond and {MaxTrialTimeout.TotalDays:0}d");
            else timeout = TimeSpan.FromSeconds(seconds.Value);
        }
        return new PipelineSpec(ExecutorCatalog.Local, null, [], new ExternalSpec(timeout));
    }

    /// <summary>
    /// The steps of the Kale-tagged notebook <c>trial.notebook</c> names (relative to the study file's folder), as a
    /// study file writes steps; null, with the notebook's problems at <c>trial.notebook</c>, where it cannot run.
    /// </summary>
    private static YamlNode? NotebookSteps(YamlReader r, YamlMappingNode trial, YamlNode node, string studyDirectory, IReadOnlySet<string>? parameters)
    {
        if (YamlReader.Field(trial, "steps") is not null)
            r.Error("trial.notebook", node, "give steps or a notebook, not both");
        if (r.String(node, "trial.notebook") is not { } file) return null;
        try
        {
            var steps = Notebooks.NotebookStudy.StepsOf(ReadText(Path.Combine(studyDirectory, file)), parameters ?? new HashSet<string>());
            var stream = new YamlStream();
            stream.Load(new StringReader(steps.ToJsonString()));
            return stream.Documents[0].RootNode;
        }
        catch (StudyFileException e)
        {
            foreach (var error in e.Errors) r.Error("trial.notebook", node, $"{file}: {error.Message}");
            return null;
        }
    }

    private static StepSpec? ReadStep(YamlReader r, YamlNode node, string path)
    {
        var map = r.Mapping(node, path, ["name", "command", "dependsOn", "image", "env", "resources", "cache"],
            required: "a step: a mapping with at least name and command");
        if (map is null) return null;
        var name = ReadName(r, map, path, "name", "step");
        var commandNode = r.Required(map, path, "command", "the command as a list of arguments");
        var command = r.StringList(commandNode, path + ".command");
        if (command is { Count: 0 })
            r.Error(path + ".command", commandNode, "must hold at least the program to run");
        else if (command is [{ Length: 0 }, ..])
            r.Error(path + ".command[0]", "the program to run must not be empty");
        // An argument or variable holding NUL would be cut short on its way to the operating system: run as something else.
        if (command is not null)
            for (var a = 0; a < command.Count; a++)
                if (command[a].Contains('\0'))
                    r.Error($"{path}.command[{a}]", "holds a NUL character, which no argument of a process can");
        var dependsOn = r.StringList(YamlReader.Field(map, "dependsOn"), path + ".dependsOn") ?? [];
        var image = r.String(YamlReader.Field(map, "image"), path + ".image");
        var environment = r.ScalarMap(YamlReader.Field(map, "env"), path + ".env");
        foreach (var (variable, value) in environment)
        {
            if (variable.Length == 0 || variable.Contains('=') || variable.Contains('\0'))
                r.Error($"{path}.env", YamlReader.Field(map, "env"), $"'{variable.Replace("\0", "\\0", StringComparison.Ordinal)}' is not an environment variable name (no '=', no NUL, not empty)");
            if (value.Contains('\0'))
                r.Error($"{path}.env.{variable}", "holds a NUL character, which no environment variable can");
        }
        var resources = ReadResources(r, YamlReader.Field(map, "resources"), path + ".resources");
        var cache = r.Bool(YamlReader.Field(map, "cache"), path + ".cache") ?? true;
        return name is null || command is null or { Count: 0 } || resources is null
            ? null
            : new StepSpec(name, dependsOn, command, image, environment, resources, cache);
    }

    private static ResourceSpec? ReadResources(YamlReader r, YamlNode? node, string path)
    {
        var map = r.Mapping(node, path, ["gpu", "cpu", "memory"]);
        if (map is null) return ResourceSpec.None;
        var gpu = r.Number(YamlReader.Field(map, "gpu"), path + ".gpu");
        if (gpu is < 0 or (> 0 and < 0.001) || (gpu > 1 && gpu != Math.Floor(gpu.Value)) || gpu > 1024)
        {
            r.Error(path + ".gpu", YamlReader.Field(map, "gpu"),
                $"{gpu} is not a GPU count: a fraction from 0.001 to 1 (0.25 shares one GPU with three other steps) or a whole number of GPUs");
            return null;
        }
        var cpu = r.Number(YamlReader.Field(map, "cpu"), path + ".cpu");
        if (cpu is <= 0)
        {
            r.Error(path + ".cpu", YamlReader.Field(map, "cpu"), "must be a positive number of cores");
            return null;
        }
        var memory = r.String(YamlReader.Field(map, "memory"), path + ".memory");
        if (memory is not null && !Quantity().IsMatch(memory))
        {
            r.Error(path + ".memory", YamlReader.Field(map, "memory"), $"'{memory}' is not a memory size; write it like 512Mi or 4Gi");
            return null;
        }
        return new ResourceSpec(gpu ?? 0, cpu, memory);
    }

    /// <summary>Steps must name existing steps, form no cycle, and use only placeholders that resolve.</summary>
    private static void CheckDependencies(YamlReader r, PipelineSpec pipeline, IReadOnlySet<string>? parameters)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < pipeline.Steps.Count; i++)
        {
            var step = pipeline.Steps[i];
            if (!index.TryAdd(step.Name, i))
                r.Error($"trial.steps[{i}].name", $"duplicate step name '{step.Name}'");
        }
        for (var i = 0; i < pipeline.Steps.Count; i++)
            for (var d = 0; d < pipeline.Steps[i].DependsOn.Count; d++)
            {
                var dependency = pipeline.Steps[i].DependsOn[d];
                if (!index.ContainsKey(dependency))
                    r.Error($"trial.steps[{i}].dependsOn[{d}]", $"no step named '{dependency}'; steps: {string.Join(", ", index.Keys)}");
            }

        if (FindCycle(pipeline, index) is { } cycle)
            r.Error($"trial.steps[{index[cycle[0]]}].dependsOn", $"dependency cycle: {string.Join(" -> ", cycle)}");

        for (var i = 0; i < pipeline.Steps.Count; i++)
        {
            var step = pipeline.Steps[i];
            var upstream = Upstream(pipeline, index, step.Name);
            var texts = step.Command.Select((text, a) => (text, $"trial.steps[{i}].command[{a}]"))
                .Concat(step.Environment.Select(e => (text: e.Value, $"trial.steps[{i}].env.{e.Key}")));
            foreach (var (text, path) in texts)
                foreach (var placeholder in Placeholders.Names(text))
                    if (PlaceholderProblem(placeholder, parameters, upstream, index) is { } problem)
                        r.Error(path, problem);
        }
    }

    private static string? PlaceholderProblem(string placeholder, IReadOnlySet<string>? parameters, IReadOnlySet<string> upstream, IReadOnlyDictionary<string, int> steps)
    {
        if (Placeholders.Fixed.Contains(placeholder)) return null;
        if (Placeholders.ParameterReference(placeholder) is { } parameter)
            return parameters is null || parameters.Contains(parameter)
                ? null
                : $"unknown placeholder '${{{placeholder}}}': no parameter named '{parameter}'";
        if (Placeholders.StepOutputsReference(placeholder) is { } step)
            return !steps.ContainsKey(step) ? $"unknown placeholder '${{{placeholder}}}': no step named '{step}'"
                : !upstream.Contains(step) ? $"placeholder '${{{placeholder}}}' names step '{step}', which this step does not depend on (add it to dependsOn)"
                : null;
        return $"unknown placeholder '${{{placeholder}}}'; allowed: ${{params.NAME}}, ${{steps.STEP.outputs}}, ${{outputs}}, ${{trial.id}}, ${{trial.dir}}, ${{study.dir}}";
    }

    private static HashSet<string> Upstream(PipelineSpec pipeline, IReadOnlyDictionary<string, int> index, string step)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(pipeline.Steps[index[step]].DependsOn);
        while (stack.TryPop(out var next))
            if (index.TryGetValue(next, out var i) && seen.Add(next))
                foreach (var dependency in pipeline.Steps[i].DependsOn) stack.Push(dependency);
        return seen;
    }

    private static List<string>? FindCycle(PipelineSpec pipeline, IReadOnlyDictionary<string, int> index)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();
        List<string>? Visit(string name)
        {
            state[name] = 1;
            path.Add(name);
            foreach (var dependency in pipeline.Steps[index[name]].DependsOn.Where(index.ContainsKey))
            {
                if (state.GetValueOrDefault(dependency) == 1)
                    return [.. path.Skip(path.IndexOf(dependency)), dependency];
                if (state.GetValueOrDefault(dependency) == 0 && Visit(dependency) is { } found) return found;
            }
            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            return null;
        }
        foreach (var step in index.Keys)
            if (state.GetValueOrDefault(step) == 0 && Visit(step) is { } cycle)
                return cycle;
        return null;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
