using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tuning.Trials.Studies;

/// <summary>
/// Typed reads from a YAML document that never stop at the first problem: each read records an error with
/// the field path and position and returns null, so the loader can go on and report everything at once.
/// </summary>
internal sealed class YamlReader
{
    private readonly List<StudyFileError> _errors = [];
    private readonly Dictionary<string, Mark> _marks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<YamlNode, YamlNode> _placedAt = new(ReferenceEqualityComparer.Instance);

    public IReadOnlyList<StudyFileError> Errors => _errors;

    public void Error(string path, YamlNode? node, string message)
    {
        var mark = node is null ? PositionOf(path) : StartOf(node);
        _errors.Add(new StudyFileError(path, (int)(mark?.Line ?? 0), (int)(mark?.Column ?? 0), message) { Label = Label(path) });
    }

    /// <summary>
    /// Names the list entry at <paramref name="path"/> (a parameter, a step; an objective or constraint by its
    /// <c>metric</c>) by the <paramref name="key"/> field its mapping holds, so errors under it read
    /// <c>parameters[2] (optimizer_kind).values</c>: with twenty parameters an index alone sends the user counting.
    /// </summary>
    public void NameEntry(string path, YamlNode node, string key = "name")
    {
        if (node is YamlMappingNode map && Field(map, key) is YamlScalarNode { Value: { Length: > 0 and <= 80 } name })
            _names[path] = name;
    }

    /// <summary>Gives each error recorded so far the path <paramref name="rename"/> makes of its own (a Katib field's, say).</summary>
    public void RenamePaths(Func<string, string> rename)
    {
        for (var i = 0; i < _errors.Count; i++)
        {
            var path = rename(_errors[i].Path);
            _errors[i] = _errors[i] with { Path = path, Label = Label(path) };
        }
    }

    private string? Label(string path)
    {
        for (var p = path; p.Length > 0; p = Parent(p))
            if (_names.TryGetValue(p, out var name)) return $"{p} ({name}){path[p.Length..]}";
        return null;
    }

    /// <summary>An error for a path read earlier: positioned at that field, or at its nearest parent that was read.</summary>
    public void Error(string path, string message) => Error(path, null, message);

    private Mark? PositionOf(string path)
    {
        for (var p = path; p.Length > 0; p = Parent(p))
            if (_marks.TryGetValue(p, out var mark)) return mark;
        return null;
    }

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }

    private void Visit(string path, YamlNode node) => _marks.TryAdd(path, StartOf(node));

    /// <summary>
    /// A node made while translating another document (a Katib Experiment) into a study file: it has no place of
    /// its own, so its errors point at <paramref name="at"/>, the field it was made from.
    /// </summary>
    public T Placed<T>(T node, YamlNode at) where T : YamlNode
    {
        _placedAt[node] = _placedAt.GetValueOrDefault(at) ?? at;
        return node;
    }

    private Mark StartOf(YamlNode node) => _placedAt.TryGetValue(node, out var at) ? at.Start : node.Start;

    /// <summary>A mapping with only the allowed keys; each other key is an error naming it and what is allowed.</summary>
    /// <param name="required">Where set, an empty entry is an error too, saying that this is expected.</param>
    public YamlMappingNode? Mapping(YamlNode? node, string path, IReadOnlyCollection<string> allowed, string? what = null, string? required = null)
    {
        if (node is null || IsNull(node))
        {
            if (required is not null) Error(path, node, $"empty: expected {required}");
            return null;
        }
        Visit(path, node);
        if (node is not YamlMappingNode map)
        {
            Error(path, node, required is null ? "must be a mapping of fields" : $"expected {required}");
            return null;
        }
        foreach (var key in map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (allowed.Contains(name)) continue;
            // Quoted as far as a person reads it: a key may be a kilobyte long, and a file may hold thousands.
            if (name.Length > 80) name = name[..80] + "…";
            Error(Join(path, name), key,
                $"unknown field '{name}'{(what is null ? "" : " for " + what)}; allowed: {string.Join(", ", allowed)}");
        }
        return map;
    }

    public static YamlNode? Field(YamlMappingNode? map, string key) =>
        map is not null && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public YamlNode? Required(YamlMappingNode? map, string path, string key, string what)
    {
        var node = Field(map, key);
        if (node is null || IsNull(node))
        {
            if (map is not null || path.Length == 0) Error(Join(path, key), map, $"missing: {what}");
            return null;
        }
        return node;
    }

    public string? String(YamlNode? node, string path)
    {
        if (node is null || IsNull(node)) return null;
        Visit(path, node);
        if (node is YamlScalarNode scalar) return scalar.Value;
        Error(path, node, "must be a single value, not a list or mapping");
        return null;
    }

    public double? Number(YamlNode? node, string path)
    {
        var text = String(node, path);
        if (text is null) return null;
        if (NumberText.TryParse(text, out var value)) return value;
        Error(path, node, $"must be a number, got '{text}'");
        return null;
    }

    public int? Int(YamlNode? node, string path, int min)
    {
        var text = String(node, path);
        if (text is null) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min) return value;
        Error(path, node, $"must be a whole number of at least {min}, got '{text}'");
        return null;
    }

    public bool? Bool(YamlNode? node, string path)
    {
        var text = String(node, path);
        if (text is null) return null;
        if (bool.TryParse(text, out var value)) return value;
        Error(path, node, $"must be true or false, got '{text}'");
        return null;
    }

    public IReadOnlyList<(YamlNode Node, string Path)>? Sequence(YamlNode? node, string path)
    {
        if (node is null || IsNull(node)) return null;
        Visit(path, node);
        if (node is YamlSequenceNode sequence)
            return sequence.Children.Select((child, i) => (child, $"{path}[{i}]")).ToArray();
        Error(path, node, "must be a list");
        return null;
    }

    public IReadOnlyList<string>? StringList(YamlNode? node, string path)
    {
        var items = Sequence(node, path);
        return items?.Select(item => String(item.Node, item.Path)).OfType<string>().ToArray();
    }

    /// <summary>A mapping of names to single values (settings, environment), with values kept as text.</summary>
    public IReadOnlyDictionary<string, string> ScalarMap(YamlNode? node, string path)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null || IsNull(node)) return result;
        Visit(path, node);
        if (node is not YamlMappingNode map)
        {
            Error(path, node, "must be a mapping of names to values");
            return result;
        }
        foreach (var (key, value) in map.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            var text = String(value, Join(path, name));
            if (text is not null) result[name] = text;
        }
        return result;
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" };

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
