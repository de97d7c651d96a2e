using System.Globalization;

namespace Tuning.Tuner.Grains;

/// <summary>
/// Filters, sorts and pages a study's trials. Pages are keyed by the last trial's sort key, not by an offset, so
/// trials finishing while a client pages through do not shift later pages: nothing is skipped or shown twice.
/// </summary>
public static class TrialPaging
{
    /// <summary>Why a query is not valid (its sort or limit), or null.</summary>
    public static string? Problem(TrialQuery query) =>
        !TrialQuery.Sorts.Contains(query.Sort.TrimStart('-')) ? $"sort must be one of {string.Join(", ", TrialQuery.Sorts)}, optionally with a leading '-', got '{query.Sort}'"
        : query.Limit is < 1 or > TrialQuery.MaxLimit ? $"limit must be from 1 to {TrialQuery.MaxLimit}, got {query.Limit}"
        : query.After is not null && ParseCursor(query.After) is null ? $"after must be a cursor returned as 'next' by a previous page, got '{query.After}'"
        : null;

    /// <param name="toLoss">The objective of a trial as a loss (smaller is better), or null where it has none.</param>
    public static TrialPage Page(IEnumerable<TrialRecord> trials, TrialQuery query, Func<TrialRecord, double?> toLoss)
    {
        var descending = query.Sort.StartsWith('-');
        var sort = query.Sort.TrimStart('-');
        Key KeyOf(TrialRecord trial)
        {
            double? value = sort switch
            {
                "value" => toLoss(trial),
                "duration" => trial is { StartedAt: { } start, CompletedAt: { } end } ? (end - start).TotalSeconds : null,
                _ => trial.Number,
            };
            // Trials without a value come last either way; ties go by trial number.
            return new Key(value is null, value is { } v ? (descending ? -v : v) : 0, descending && sort == "number" ? -trial.Number : trial.Number);
        }
        var conditions = (query.Parameters ?? []).GroupBy(c => c.Name).ToArray();
        bool Admitted(TrialRecord trial) =>
            conditions.All(named => trial.Parameters.TryGetValue(named.Key, out var value) && named.Any(c => c.Admits(value)));
        var matching = trials.Where(t => (query.Status is null || t.Status == query.Status) && Admitted(t)).Select(t => (Trial: t, Key: KeyOf(t))).ToList();
        matching.Sort((a, b) => a.Key.CompareTo(b.Key));
        var after = query.After is null ? null : ParseCursor(query.After);
        var start = after is { } cursor ? matching.FindIndex(m => m.Key.CompareTo(cursor) > 0) : 0;
        if (start < 0) start = matching.Count;
        var page = matching.Skip(start).Take(query.Limit).ToArray();
        var next = start + page.Length < matching.Count ? page[^1].Key.ToCursor() : null;
        return new TrialPage(page.Select(p => p.Trial).ToArray(), matching.Count, next);
    }

    private readonly record struct Key(bool Missing, double Value, int Number) : IComparable<Key>
    {
        public int CompareTo(Key other) =>
            Missing != other.Missing ? Missing.CompareTo(other.Missing)
            : Value != other.Value ? Value.CompareTo(other.Value)
            : Number.CompareTo(other.Number);

        public string ToCursor() =>
            (Missing ? "~" : Value.ToString("R", CultureInfo.InvariantCulture)) + "_" + Number.ToString(CultureInfo.InvariantCulture);
    }

    private static Key? ParseCursor(string text)
    {
        var cut = text.LastIndexOf('_');
        if (cut <= 0 || !int.TryParse(text[(cut + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return null;
        var value = text[..cut];
        if (value == "~") return new Key(true, 0, number);
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? new Key(false, v, number) : null;
    }
}
