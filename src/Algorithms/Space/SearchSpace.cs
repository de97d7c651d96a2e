using System.Collections.Immutable;

namespace Tuning.Algorithms.Space;

/// <summary>An ordered set of parameters, mapping whole parameter sets to and from points of the unit cube.</summary>
public sealed class SearchSpace
{
    public SearchSpace(IEnumerable<Parameter> parameters) => Parameters = parameters.ToImmutableArray();

    public ImmutableArray<Parameter> Parameters { get; }

    public int Dimensions => Parameters.Length;

    public double[] ToUnit(IReadOnlyDictionary<string, ParameterValue> values)
    {
        var point = new double[Parameters.Length];
        for (var i = 0; i < point.Length; i++)
            point[i] = Parameters[i].ToUnit(values[Parameters[i].Name]);
        return point;
    }

    public IReadOnlyDictionary<string, ParameterValue> FromUnit(ReadOnlySpan<double> point)
    {
        var values = new Dictionary<string, ParameterValue>(Parameters.Length);
        for (var i = 0; i < Parameters.Length; i++)
            values[Parameters[i].Name] = Parameters[i].FromUnit(point[i]);
        return values;
    }

    /// <summary>Snaps a unit point to the point of a valid parameter set (what the trial will really run).</summary>
    public double[] Snap(ReadOnlySpan<double> point) => ToUnit(FromUnit(point));
}
