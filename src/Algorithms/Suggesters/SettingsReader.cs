using System.Globalization;

namespace Tuning.Algorithms.Suggesters;

/// <summary>A problem with a study's algorithm section, with its path in the study file (<c>algorithm.settings.gamma</c>).</summary>
public sealed record AlgorithmError(string Path, string Message);

/// <summary>
/// Reads an algorithm's <c>settings</c> map (scalar text, as the study file gave it) into typed values,
/// collecting every problem instead of stopping at the first, and refusing settings the algorithm does not know.
/// </summary>
public sealed class SettingsReader(IReadOnlyDictionary<string, string> settings, string path = "algorithm.settings")
{
    private readonly HashSet<string> _known = [];
    private readonly List<AlgorithmError> _errors = [];

    public IReadOnlyList<AlgorithmError> Errors => _errors;

    public int Int(string name, int fallback, int min, int max = int.MaxValue) => OptionalInt(name, min, max) ?? fallback;

    /// <summary>A whole number the study file may leave out (null then, or when it is not valid): for a default that depends on more than the setting.</summary>
    public int? OptionalInt(string name, int min, int max = int.MaxValue)
    {
        if (!Raw(name, out var text)) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        Fail(name, $"must be a whole number from {min} to {(max == int.MaxValue ? "any" : max)}, got '{text}'");
        return null;
    }

    /// <summary>A whole number the study file must give; missing, it is an error saying <paramref name="what"/> it is.</summary>
    public int? RequiredInt(string name, string what, int min, int max = int.MaxValue)
    {
        if (settings.ContainsKey(name)) return OptionalInt(name, min, max);
        _known.Add(name);
        Fail(name, $"required: {what}");
        return null;
    }

    public double Double(string name, double fallback, double min, double max) => OptionalDouble(name, min, max) ?? fallback;

    /// <summary>A number the study file may leave out (null then, or when it is not valid): for a default that depends on the space.</summary>
    public double? OptionalDouble(string name, double min, double max)
    {
        if (!Raw(name, out var text)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        Fail(name, $"must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got '{text}'");
        return null;
    }

    public bool Bool(string name, bool fallback)
    {
        if (!Raw(name, out var text)) return fallback;
        if (bool.TryParse(text, out var value)) return value;
        Fail(name, $"must be true or false, got '{text}'");
        return fallback;
    }

    public string Choice(string name, string fallback, params string[] allowed)
    {
        if (!Raw(name, out var text)) return fallback;
        if (allowed.Contains(text)) return text;
        Fail(name, $"must be one of {string.Join(", ", allowed)}, got '{text}'");
        return fallback;
    }

    /// <summary>Call after reading every known setting: each setting left over is an error naming it.</summary>
    public IReadOnlyList<AlgorithmError> Finish()
    {
        foreach (var name in settings.Keys.Where(k => !_known.Contains(k)).Order(StringComparer.Ordinal))
            _errors.Add(new AlgorithmError($"{path}.{name}",
                _known.Count == 0
                    ? "unknown setting: this algorithm takes no settings"
                    : $"unknown setting; allowed: {string.Join(", ", _known.Order(StringComparer.Ordinal))}"));
        return _errors;
    }

    private bool Raw(string name, out string text)
    {
        _known.Add(name);
        return settings.TryGetValue(name, out text!);
    }

    /// <summary>A problem with setting <paramref name="name"/> that reading it alone cannot see (how it compares with another).</summary>
    public void Fail(string name, string message) => _errors.Add(new AlgorithmError($"{path}.{name}", message));
}
