namespace Tuning.Trials.Execution;

/// <summary>One line of a step's output or metrics file, and its number there.</summary>
public readonly record struct NumberedLine(string Text, long Number);

/// <summary>
/// Numbers the lines of one source as they are handed on, so a metric line that was not understood can be named by
/// where it was. Lines over <see cref="BoundedLines.MaxLength"/> are dropped before they get here and not counted.
/// </summary>
public sealed class LineCounter(Action<NumberedLine> onLine)
{
    private long _count;

    public void Read(string line) => onLine(new NumberedLine(line, ++_count));
}
