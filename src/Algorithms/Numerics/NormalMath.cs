using MathNet.Numerics;

namespace Tuning.Algorithms.Numerics;

/// <summary>
/// The standard normal's density and distribution in forms that stay finite far in the tails, where
/// expected improvement lives once a model is confident (Ament et al., "Unexpected improvements to
/// expected improvement for Bayesian optimization", NeurIPS 2023).
/// </summary>
public static class NormalMath
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private static readonly double LogSqrt2Pi = 0.5 * Math.Log(2 * Math.PI);
    private static readonly double LogSqrtHalfPi = 0.5 * Math.Log(Math.PI / 2);
    private static readonly double TailCut = 1 / Math.Sqrt(2.220446049250313e-16);

    public static double Pdf(double z) => Math.Exp(-0.5 * z * z - LogSqrt2Pi);

    public static double Cdf(double z) => 0.5 * SpecialFunctions.Erfc(-z * InverseSqrt2);

    /// <summary>log Φ(z), exact to double precision for any z (no underflow to -inf for z far below 0).</summary>
    public static double LogCdf(double z) =>
        z > -5 ? Math.Log(Cdf(z)) : Math.Log(Erfcx(-z * InverseSqrt2) / 2) - 0.5 * z * z;

    /// <summary>The scaled complementary error function exp(x²)·erfc(x), finite for every x ≥ 0.</summary>
    public static double Erfcx(double x)
    {
        if (x < 0) return 2 * Math.Exp(x * x) - Erfcx(-x);
        if (x < 26) return Math.Exp(x * x) * SpecialFunctions.Erfc(x);
        // Asymptotic series; at x ≥ 26 its fourth term is below 1e-11 relative.
        var inverse2 = 1 / (2 * x * x);
        return (1 - inverse2 * (1 - 3 * inverse2 * (1 - 5 * inverse2))) / (x * Math.Sqrt(Math.PI));
    }

    /// <summary>
    /// log h(z) with h(z) = φ(z) + z·Φ(z), the expected improvement of a unit normal over z. Three regimes,
    /// as in BoTorch's log_ei: direct, then through erfcx with log1mexp, then the asymptote -z²/2 - log√(2π) - 2 log|z|.
    /// </summary>
    public static double LogH(double z)
    {
        if (z > -1) return Math.Log(Pdf(z) + z * Cdf(z));
        if (z > -TailCut)
            return -0.5 * z * z - LogSqrt2Pi + Log1MinusExp(Math.Log(Erfcx(-z * InverseSqrt2) * -z) + LogSqrtHalfPi);
        return -0.5 * z * z - LogSqrt2Pi - 2 * Math.Log(-z);
    }

    /// <summary>d log h / dz = Φ(z) / h(z), computed in log space so it stays finite where both underflow.</summary>
    public static double LogHDerivative(double z) => Math.Exp(LogCdf(z) - LogH(z));

    /// <summary>log(1 - exp(x)) for x &lt; 0, accurate on both sides of -ln 2 (Mächler 2012).</summary>
    public static double Log1MinusExp(double x) =>
        x > -0.6931471805599453 ? Math.Log(-ExpMinusOne(x)) : Math.Log(1 - Math.Exp(x));

    /// <summary>exp(x) - 1 without cancellation near 0.</summary>
    private static double ExpMinusOne(double x) => Math.Abs(x) < 1e-5 ? x + 0.5 * x * x + x * x * x / 6 : Math.Exp(x) - 1;
}
