using Tuning.Algorithms.Space;

namespace Tuning.Benchmarks;

/// <summary>A benchmark function to minimise over a box, with its known minimum.</summary>
public sealed record TestFunction(string Name, SearchSpace Space, double Optimum, int Budget, Func<double[], double> Function)
{
    /// <summary>The function at a parameter set; a categorical parameter enters as the index of its value.</summary>
    public double Evaluate(IReadOnlyDictionary<string, ParameterValue> parameters) =>
        Function(Space.Parameters.Select(p => p is CategoricalParameter c ? c.IndexOf(parameters[p.Name]) : parameters[p.Name].Number).ToArray());

    /// <summary>DESIGN.md's public suite, with its budgets, and a mixed space of our own.</summary>
    public static readonly TestFunction[] Suite = [Branin(), Hartmann6(), Rosenbrock(4), Mixed4()];

    /// <summary>
    /// Small budgets, where the initial design is most of the study: Branin with 15 trials, Hartmann6 with 20 and 30,
    /// and Hartmann6 among three parameters that do nothing (9-D, as many hyperparameter searches look) with 20.
    /// </summary>
    public static readonly TestFunction[] SmallBudgets =
        [Branin() with { Budget = 15 }, Hartmann6() with { Budget = 20 }, Hartmann6() with { Budget = 30 }, Hartmann6In9() with { Budget = 20 }];

    /// <summary>The named suite: <c>default</c> (DESIGN.md's budgets) or <c>small</c>.</summary>
    public static TestFunction[]? Named(string name) => name switch
    {
        "default" => Suite,
        "small" => SmallBudgets,
        _ => null,
    };

    public static TestFunction Branin() => new("branin",
        new SearchSpace([new DoubleParameter("x1", -5, 10), new DoubleParameter("x2", 0, 15)]), 0.397887, 50, x =>
        {
            const double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
            var u = x[1] - b * x[0] * x[0] + c * x[0] - 6;
            return u * u + 10 * (1 - t) * Math.Cos(x[0]) + 10;
        });

    private static readonly double[] HartmannAlpha = [1.0, 1.2, 3.0, 3.2];
    private static readonly double[,] HartmannA =
    {
        { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 }, { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 },
    };
    private static readonly double[,] HartmannP =
    {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 }, { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 }, { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };

    public static TestFunction Hartmann6() => new("hartmann6",
        new SearchSpace(Enumerable.Range(1, 6).Select(i => new DoubleParameter($"x{i}", 0, 1))), -3.32237, 100, x =>
        {
            var sum = 0.0;
            for (var i = 0; i < 4; i++)
            {
                var inner = 0.0;
                for (var j = 0; j < 6; j++) inner += HartmannA[i, j] * (x[j] - HartmannP[i, j]) * (x[j] - HartmannP[i, j]);
                sum += HartmannAlpha[i] * Math.Exp(-inner);
            }
            return -sum;
        });

    /// <summary>Hartmann6 on the first six of nine parameters; the last three do not change the value.</summary>
    public static TestFunction Hartmann6In9()
    {
        var hartmann = Hartmann6();
        return new("hartmann6in9", new SearchSpace(Enumerable.Range(1, 9).Select(i => new DoubleParameter($"x{i}", 0, 1))),
            hartmann.Optimum, 100, x => hartmann.Function(x[..6]));
    }

    public static TestFunction Rosenbrock(int d) => new($"rosenbrock{d}",
        new SearchSpace(Enumerable.Range(1, d).Select(i => new DoubleParameter($"x{i}", -2.048, 2.048))), 0, 100, x =>
        {
            var sum = 0.0;
            for (var i = 0; i < x.Length - 1; i++)
                sum += 100 * Math.Pow(x[i + 1] - x[i] * x[i], 2) + Math.Pow(1 - x[i], 2);
            return sum;
        });

    private static readonly double[] MixedOffset = [1.0, 0.5, 0.0];
    private static readonly double[] MixedCentre = [1.0, 3.0, 5.0];

    /// <summary>
    /// A mixed space of our own, as hyperparameter searches look: a double, an int, a categorical of three values
    /// and a log-scale double. The best category is the last one listed ("adam", 1 better than "sgd"), and each
    /// category moves the best x, so a search that settles on the first category it liked stays 0.5 or 1 behind;
    /// the int and the log-scale rate interact. Minimum 0 at adam, x = 5, n = 13, lr = 10^-2.5.
    /// experiments/optuna-parity/optuna_tpe.py has the same function for Optuna.
    /// </summary>
    public static TestFunction Mixed4() => new("mixed4",
        new SearchSpace([
            new DoubleParameter("x", -5, 10), new IntParameter("n", 0, 20), new CategoricalParameter("c", ["sgd", "rmsprop", "adam"]),
            new DoubleParameter("lr", 1e-4, 1, Log: true),
        ]), 0, 100, v =>
        {
            var c = (int)v[2];
            var u = Math.Log10(v[3]) + 2.5 - 0.05 * (v[1] - 13);
            return MixedOffset[c] + Math.Pow((v[0] - MixedCentre[c]) / 3, 2) + Math.Pow((v[1] - 13) / 5, 2) + u * u;
        });
}
