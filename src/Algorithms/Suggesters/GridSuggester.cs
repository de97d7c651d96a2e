using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>
/// The Cartesian product of every parameter's grid values, walked in order (the last parameter fastest).
/// Trial number n gets grid point n, so no point is ever suggested twice, whatever the parallelism,
/// and a resumed study continues where it stopped.
/// </summary>
public sealed class GridSuggester : ISuggester
{
    private readonly SearchSpace _space;
    private readonly IReadOnlyList<ParameterValue>[] _values;

    public GridSuggester(SearchSpace space)
    {
        _space = space;
        _values = space.Parameters
            .Select(p => p.GridValues() ?? throw new ArgumentException($"parameter '{p.Name}' has no grid values: give it a step"))
            .ToArray();
        Size = _values.Aggregate(1L, (size, values) => size > long.MaxValue / Math.Max(values.Count, 1) ? long.MaxValue : size * values.Count);
    }

    /// <summary>The number of grid points.</summary>
    public long Size { get; }

    public IReadOnlyDictionary<string, ParameterValue>? Suggest(SuggestionContext context)
    {
        if (context.TrialNumber >= Size) return null;
        var index = (long)context.TrialNumber;
        var result = new Dictionary<string, ParameterValue>(_values.Length);
        for (var i = _values.Length - 1; i >= 0; i--)
        {
            result[_space.Parameters[i].Name] = _values[i][(int)(index % _values[i].Count)];
            index /= _values[i].Count;
        }
        return _space.Parameters.ToDictionary(p => p.Name, p => result[p.Name]);
    }
}
