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
    private readonly long[] _sizes;

    public GridSuggester(SearchSpace space)
    {
        _space = space;
        _sizes = space.Parameters
            .Select(p => p.GridSize ?? throw new ArgumentException($"parameter '{p.Name}' has no grid values: give it a step"))
            .ToArray();
        Size = _sizes.Aggregate(1L, (size, count) => size > long.MaxValue / Math.Max(count, 1) ? long.MaxValue : size * count);
    }

    /// <summary>The number of grid points.</summary>
    public long Size { get; }

    public IReadOnlyDictionary<string, ParameterValue>? Suggest(SuggestionContext context)
    {
        if (context.TrialNumber >= Size) return null;
        var index = (long)context.TrialNumber;
        var result = new Dictionary<string, ParameterValue>(_sizes.Length);
        for (var i = _sizes.Length - 1; i >= 0; i--)
        {
            result[_space.Parameters[i].Name] = _space.Parameters[i].GridValue(index % _sizes[i]);
            index /= _sizes[i];
        }
        return _space.Parameters.ToDictionary(p => p.Name, p => result[p.Name]);
    }
}
