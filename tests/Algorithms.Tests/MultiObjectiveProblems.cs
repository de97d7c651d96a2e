using Tuning.Algorithms.MultiObjective;
using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

/// <summary>A test problem of several objectives (losses) and an optional constraint (its excess: at most 0 where it holds), in [0,1]^d.</summary>
internal sealed record MultiObjectiveProblem(int Dimensions, Func<double[], double[]> Losses, Func<double[], double>? Excess = null)
{
    public SearchSpace Space => new(Enumerable.Range(0, Dimensions).Select(i => new DoubleParameter($"x{i}", 0, 1)));

    /// <summary>ZDT1 (Zitzler, Deb and Thiele 2000): a convex front at g = 1, where every variable but the first is 0.</summary>
    public static MultiObjectiveProblem Zdt1(int dimensions) => new(dimensions, x =>
    {
        var g = 1 + 9 * x.Skip(1).Sum() / (dimensions - 1);
        return [x[0], g * (1 - Math.Sqrt(x[0] / g))];
    });

    /// <summary>DTLZ2 with <paramref name="objectives"/> objectives: the front is the positive part of the unit sphere.</summary>
    public static MultiObjectiveProblem Dtlz2(int dimensions, int objectives) => new(dimensions, x =>
    {
        var g = x.Skip(objectives - 1).Sum(v => (v - 0.5) * (v - 0.5));
        var f = new double[objectives];
        for (var i = 0; i < objectives; i++)
        {
            f[i] = 1 + g;
            for (var j = 0; j < objectives - 1 - i; j++) f[i] *= Math.Cos(x[j] * Math.PI / 2);
            if (i > 0) f[i] *= Math.Sin(x[objectives - 1 - i] * Math.PI / 2);
        }
        return f;
    });

    /// <summary>ZDT1 under x0 + x1 ≥ 0.5: the front's left end is cut off.</summary>
    public static MultiObjectiveProblem ConstrainedZdt1(int dimensions) =>
        Zdt1(dimensions) with { Excess = x => 0.5 - x[0] - x[1] };

    /// <summary>Runs <paramref name="suggester"/> for <paramref name="trials"/> trials one at a time, as a study does.</summary>
    public List<Observation> Run(ISuggester suggester, int trials)
    {
        var observed = new List<Observation>();
        for (var n = 0; n < trials; n++)
        {
            var parameters = suggester.Suggest(new SuggestionContext(n, observed, []))!;
            var x = Enumerable.Range(0, Dimensions).Select(i => parameters[$"x{i}"].Number).ToArray();
            var losses = Losses(x);
            observed.Add(new Observation(parameters, losses[0], Losses: losses, Excesses: Excess is null ? null : [Excess(x)]));
        }
        return observed;
    }

    /// <summary>The hypervolume of the feasible observations up to <paramref name="reference"/>.</summary>
    public static double Hypervolume(IEnumerable<Observation> observed, double[] reference) =>
        MultiObjective.Hypervolume.Of(observed.Where(o => o.Violation == 0).Select(o => o.Losses!).ToArray(), reference);
}
