namespace Tuning.Algorithms.Sampling;

public static class UniformPoint
{
    /// <summary>A point drawn uniformly from the unit cube [0, 1]^dimensions.</summary>
    public static double[] Draw(Random random, int dimensions)
    {
        var point = new double[dimensions];
        for (var i = 0; i < point.Length; i++) point[i] = random.NextDouble();
        return point;
    }
}
