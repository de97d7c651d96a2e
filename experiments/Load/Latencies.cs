namespace Tuning.Load;

/// <summary>Each request's milliseconds and outcome, per kind of request (submit, study, trials, verify).</summary>
public sealed class Latencies
{
    private sealed class Kind
    {
        public readonly List<double> Milliseconds = [];
        public readonly SortedDictionary<int, int> Statuses = [];
        public int Exceptions;
        public readonly List<string> Errors = [];
    }

    private readonly Dictionary<string, Kind> kinds = [];

    private Kind Of(string kind)
    {
        if (!kinds.TryGetValue(kind, out var k)) kinds[kind] = k = new Kind();
        return k;
    }

    public void Record(string kind, double milliseconds, int status, string? error)
    {
        lock (kinds)
        {
            var k = Of(kind);
            k.Milliseconds.Add(milliseconds);
            k.Statuses[status] = k.Statuses.GetValueOrDefault(status) + 1;
            if (status is < 200 or > 299 && k.Errors.Count < 5) k.Errors.Add($"{status}: {error}");
        }
    }

    public void Exception(string kind, Exception e)
    {
        lock (kinds)
        {
            var k = Of(kind);
            k.Exceptions++;
            if (k.Errors.Count < 5) k.Errors.Add($"{e.GetType().Name}: {e.Message}");
        }
    }

    public sealed record Summary(
        int Count, double P50, double P90, double P99, double Max, int NonSuccess, int ServerErrors, int Exceptions,
        IReadOnlyDictionary<string, int> Statuses, IReadOnlyList<string> Errors);

    public IReadOnlyDictionary<string, Summary> Summarize()
    {
        lock (kinds)
        {
            return kinds.ToDictionary(pair => pair.Key, pair =>
            {
                var k = pair.Value;
                var sorted = k.Milliseconds.Order().ToArray();
                return new Summary(sorted.Length + k.Exceptions,
                    Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.99), sorted.Length == 0 ? double.NaN : Math.Round(sorted[^1], 1),
                    k.Statuses.Where(s => s.Key is < 200 or > 299).Sum(s => s.Value), k.Statuses.Where(s => s.Key >= 500).Sum(s => s.Value), k.Exceptions,
                    k.Statuses.ToDictionary(s => s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), s => s.Value), k.Errors.ToArray());
            });
        }
    }

    /// <summary>The nearest-rank percentile, in milliseconds to a tenth.</summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)], 1);
}
