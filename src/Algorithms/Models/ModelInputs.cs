using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Models;

/// <summary>
/// A search space as a Gaussian process reads it: unit coordinates, with each categorical dimension as its
/// category index (the kernel compares categories as same or different, never by distance).
/// </summary>
public sealed class ModelInputs
{
    public ModelInputs(SearchSpace space)
    {
        Categorical = space.Parameters.Select(p => p.IsCategorical).ToArray();
        Categories = space.Parameters.Select(p => p is CategoricalParameter c ? c.Values.Length : 0).ToArray();
        Upper = Categories.Select(k => k > 0 ? k - 1.0 : 1.0).ToArray();
    }

    public bool[] Categorical { get; }

    /// <summary>How many categories each categorical dimension has (0 for the others).</summary>
    public int[] Categories { get; }

    /// <summary>Each feature's upper bound: 1, or the last category index.</summary>
    public double[] Upper { get; }

    public double[] ToFeatures(double[] unit)
    {
        var features = (double[])unit.Clone();
        for (var j = 0; j < features.Length; j++)
            if (Categorical[j]) features[j] = Math.Min(Math.Floor(unit[j] * Categories[j]), Categories[j] - 1);
        return features;
    }

    public double[] FromFeatures(double[] features)
    {
        var unit = (double[])features.Clone();
        for (var j = 0; j < unit.Length; j++)
            if (Categorical[j]) unit[j] = (Math.Round(features[j]) + 0.5) / Categories[j];
        return unit;
    }
}
