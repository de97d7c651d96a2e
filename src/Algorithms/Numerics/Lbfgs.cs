namespace Tuning.Algorithms.Numerics;

/// <summary>A function to minimise: returns f(x) and writes ∇f(x) into <c>gradient</c>.</summary>
public delegate double DifferentiableFunction(ReadOnlySpan<double> x, Span<double> gradient);

/// <summary>The end of a minimisation: the best point found and its value.</summary>
public sealed record Minimum(double[] X, double Value, int Evaluations);

/// <summary>
/// Limited-memory BFGS (Nocedal and Wright, Numerical Optimization, algorithm 7.4) with a backtracking Armijo
/// line search. Optional box bounds are kept by projection: a step is clipped into the box and the directions
/// are not allowed to push against an active bound, which is what kernel hyperparameters and acquisition
/// maximisation over the unit cube need.
/// </summary>
public static class Lbfgs
{
    public static Minimum Minimize(
        DifferentiableFunction f, ReadOnlySpan<double> start, double[]? lower = null, double[]? upper = null,
        int maxIterations = 50, int memory = 6, double gradientTolerance = 1e-6, double relativeTolerance = 1e-10)
    {
        var n = start.Length;
        var x = start.ToArray();
        Project(x, lower, upper);
        var g = new double[n];
        var fx = f(x, g);
        var evaluations = 1;
        if (!double.IsFinite(fx)) return new Minimum(x, fx, evaluations);

        var sHistory = new List<double[]>();
        var yHistory = new List<double[]>();
        var rhoHistory = new List<double>();
        var direction = new double[n];
        var trial = new double[n];
        var trialGradient = new double[n];
        var alpha = new double[memory];

        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            if (ProjectedGradientNorm(x, g, lower, upper) < gradientTolerance) break;

            // Two-loop recursion: direction = -H·g with H the L-BFGS inverse-Hessian estimate.
            Array.Copy(g, direction, n);
            for (var i = sHistory.Count - 1; i >= 0; i--)
            {
                alpha[i] = rhoHistory[i] * Dot(sHistory[i], direction);
                Axpy(-alpha[i], yHistory[i], direction);
            }
            if (sHistory.Count > 0)
            {
                var last = sHistory.Count - 1;
                Scale(direction, Dot(sHistory[last], yHistory[last]) / Dot(yHistory[last], yHistory[last]));
            }
            for (var i = 0; i < sHistory.Count; i++)
            {
                var beta = rhoHistory[i] * Dot(yHistory[i], direction);
                Axpy(alpha[i] - beta, sHistory[i], direction);
            }
            Scale(direction, -1);
            FreezeActiveBounds(x, direction, lower, upper);
            if (Dot(direction, g) >= 0)
            {
                // Not a descent direction (curvature information went stale at a bound): restart from steepest descent.
                for (var i = 0; i < n; i++) direction[i] = -g[i];
                FreezeActiveBounds(x, direction, lower, upper);
                sHistory.Clear();
                yHistory.Clear();
                rhoHistory.Clear();
            }

            var step = sHistory.Count == 0 ? Math.Min(1.0, 1.0 / Math.Max(Norm(direction), 1e-12)) : 1.0;
            var accepted = false;
            double fTrial = fx;
            for (var attempt = 0; attempt < 30; attempt++)
            {
                for (var i = 0; i < n; i++) trial[i] = x[i] + step * direction[i];
                Project(trial, lower, upper);
                fTrial = f(trial, trialGradient);
                evaluations++;
                var decrease = 0.0;
                for (var i = 0; i < n; i++) decrease += g[i] * (trial[i] - x[i]);
                if (double.IsFinite(fTrial) && fTrial <= fx + 1e-4 * decrease)
                {
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if (!accepted) break;

            var s = new double[n];
            var y = new double[n];
            for (var i = 0; i < n; i++)
            {
                s[i] = trial[i] - x[i];
                y[i] = trialGradient[i] - g[i];
            }
            var sy = Dot(s, y);
            if (sy > 1e-12)
            {
                if (sHistory.Count == memory)
                {
                    sHistory.RemoveAt(0);
                    yHistory.RemoveAt(0);
                    rhoHistory.RemoveAt(0);
                }
                sHistory.Add(s);
                yHistory.Add(y);
                rhoHistory.Add(1 / sy);
            }
            var previous = fx;
            Array.Copy(trial, x, n);
            Array.Copy(trialGradient, g, n);
            fx = fTrial;
            if (Math.Abs(previous - fx) <= relativeTolerance * Math.Max(1, Math.Abs(fx))) break;
        }
        return new Minimum(x, fx, evaluations);
    }

    private static void Project(double[] x, double[]? lower, double[]? upper)
    {
        for (var i = 0; i < x.Length; i++)
        {
            if (lower is not null && x[i] < lower[i]) x[i] = lower[i];
            if (upper is not null && x[i] > upper[i]) x[i] = upper[i];
        }
    }

    private static void FreezeActiveBounds(double[] x, double[] direction, double[]? lower, double[]? upper)
    {
        for (var i = 0; i < x.Length; i++)
            if ((lower is not null && x[i] <= lower[i] && direction[i] < 0) || (upper is not null && x[i] >= upper[i] && direction[i] > 0))
                direction[i] = 0;
    }

    private static double ProjectedGradientNorm(double[] x, double[] g, double[]? lower, double[]? upper)
    {
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var gi = g[i];
            if ((lower is not null && x[i] <= lower[i] && gi > 0) || (upper is not null && x[i] >= upper[i] && gi < 0)) gi = 0;
            sum += gi * gi;
        }
        return Math.Sqrt(sum);
    }

    private static double Dot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (var i = 0; i < y.Length; i++) y[i] += a * x[i];
    }

    private static void Scale(double[] x, double a)
    {
        for (var i = 0; i < x.Length; i++) x[i] *= a;
    }
}
