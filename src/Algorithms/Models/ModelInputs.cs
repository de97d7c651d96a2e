using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Models;

/// <summary>
/// A search space as a Gaussian process reads it: unit coordinates, with each categorical dimension as its
/// category index (the kernel compares categories as same or different, never by distance). With
/// <c>fidelity</c>, one more continuous feature after the space's: how far a trial's value had trained
/// (<see cref="Suggesters.ObservationFidelity"/>), so one model learns how values at few steps foretell those at the
/// last; suggestions are always made at the full fidelity, 1, and the acquisition's local search holds it there.
/// </summary>
public sealed class ModelInputs
{
    public ModelInputs(SearchSpace space, bool fidelity = false)
    {
        HasFidelity = fidelity;
        var extra = fidelity ? 1 : 0;
        Categorical = [.. space.Parameters.Select(p => p.IsCategorical), .. Enumerable.Repeat(false, extra)];
        Categories = [.. space.Parameters.Select(p => p is CategoricalParameter c ? c.Values.Length : 0), .. Enumerable.Repeat(0, extra)];
        Upper = Categories.Select(k => k > 0 ? k - 1.0 : 1.0).ToArray();
        Fixed = [.. space.Parameters.Select(p => p.IsCategorical), .. Enumerable.Repeat(true, extra)];
    }

    /// <summary>Whether the last feature is the fidelity.</summary>
    public bool HasFidelity { get; }

    public bool[] Categorical { get; }

    /// <summary>How many categories each categorical dimension has (0 for the others).</summary>
    public int[] Categories { get; }

    /// <summary>Each feature's upper bound: 1, or the last category index.</summary>
    public double[] Upper { get; }

    /// <summary>The features the acquisition's local search must not move: categories, and the fidelity.</summary>
    public bool[] Fixed { get; }

    /// <summary>A point's features; with a fidelity feature, that one is <paramref name="fidelity"/> (by default the full one).</summary>
    public double[] ToFeatures(double[] unit, double fidelity = 1)
    {
        var features = new double[Categorical.Length];
        unit.CopyTo(features, 0);
        for (var j = 0; j < unit.Length; j++)
            if (Categorical[j]) features[j] = Math.Min(Math.Floor(unit[j] * Categories[j]), Categories[j] - 1);
        if (HasFidelity) features[^1] = fidelity;
        return features;
    }

    /// <summary>The unit point of features, the fidelity dropped.</summary>
    public double[] FromFeatures(double[] features)
    {
        var unit = features[..(HasFidelity ? features.Length - 1 : features.Length)];
        for (var j = 0; j < unit.Length; j++)
            if (Categorical[j]) unit[j] = (Math.Round(features[j]) + 0.5) / Categories[j];
        return unit;
    }

    /// <summary>The same point at the full fidelity: where the model is asked what a trial run to its end would give.</summary>
    public double[] AtFull(double[] features) => HasFidelity ? [.. features[..^1], 1.0] : features;
}
