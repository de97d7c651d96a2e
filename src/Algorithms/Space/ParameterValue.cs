using System.Globalization;

namespace Tuning.Algorithms.Space;

/// <summary>
/// One value of one parameter: a number (double, int and discrete parameters) or a category name.
/// Kept as a tiny value type so parameter sets stay cheap to copy between grains and threads.
/// </summary>
public readonly record struct ParameterValue
{
    private ParameterValue(double number, string? category)
    {
        Number = number;
        Category = category;
    }

    public double Number { get; }

    /// <summary>The category name for categorical parameters; null for numbers.</summary>
    public string? Category { get; }

    public bool IsCategory => Category is not null;

    public static ParameterValue Of(double number) => new(number, null);

    public static ParameterValue Of(string category) => new(double.NaN, category);

    /// <summary>The text that replaces <c>${params.NAME}</c> in a command: invariant culture, shortest round-trip.</summary>
    public override string ToString() =>
        Category ?? Number.ToString("R", CultureInfo.InvariantCulture);
}
