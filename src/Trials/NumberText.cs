using System.Globalization;

namespace Tuning.Trials;

/// <summary>Numbers as users and programs write them: invariant culture, plus YAML's and Python's spellings of NaN and infinity.</summary>
public static class NumberText
{
    public static bool TryParse(string text, out double value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case ".inf" or "inf" or "+inf" or "infinity": value = double.PositiveInfinity; return true;
            case "-.inf" or "-inf" or "-infinity": value = double.NegativeInfinity; return true;
            case ".nan" or "nan": value = double.NaN; return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
