using System.Text;

namespace Tuning.Trials.Execution;

/// <summary>
/// Splits text fed in pieces into lines, ended by <c>\n</c>, <c>\r</c> (progress bars) or <c>\r\n</c>, and hands on
/// each line of at most <see cref="MaxLength"/> characters; a longer line is dropped as it comes, never held whole,
/// so a step printing without newlines cannot exhaust the tuner's memory.
/// </summary>
public sealed class BoundedLines(Action<string> onLine)
{
    public const int MaxLength = 64 * 1024;

    private readonly StringBuilder _line = new();
    private bool _overlong;
    private bool _afterCarriageReturn;

    public void Feed(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            var afterCarriageReturn = _afterCarriageReturn;
            _afterCarriageReturn = c == '\r';
            if (c == '\n' && afterCarriageReturn) continue;
            if (c is '\r' or '\n') End();
            else if (_overlong) continue;
            else if (_line.Length == MaxLength)
            {
                _overlong = true;
                _line.Clear();
            }
            else _line.Append(c);
        }
    }

    /// <summary>Ends the last line, if the text did not.</summary>
    public void Finish()
    {
        if (_line.Length > 0) End();
    }

    private void End()
    {
        if (!_overlong) onLine(_line.ToString());
        _line.Clear();
        _overlong = false;
    }

    /// <summary>The last non-empty line among the last 64 KiB of a file (a log's end, however large the log).</summary>
    public static string? LastOfFile(string path)
    {
        if (!File.Exists(path)) return null;
        using var file = File.OpenRead(path);
        file.Seek(Math.Max(0, file.Length - MaxLength), SeekOrigin.Begin);
        using var reader = new StreamReader(file);
        string? last = null;
        var lines = new BoundedLines(line => { if (!string.IsNullOrWhiteSpace(line)) last = line; });
        var buffer = new char[8192];
        int read;
        while ((read = reader.Read(buffer)) > 0) lines.Feed(buffer.AsSpan(0, read));
        lines.Finish();
        return last;
    }
}
