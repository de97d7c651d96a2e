using System.Text;

namespace Tuning.Trials.Execution;

/// <summary>
/// The lines a file grows by, read as they are appended (a step's <c>TUNER_METRICS_FILE</c>, written while it
/// trains): each read picks up where the last one stopped, and a line is handed on only once it is complete.
/// </summary>
public sealed class AppendedLines(string path, Action<string> onLine)
{
    private readonly BoundedLines _lines = new(onLine);
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly byte[] _bytes = new byte[8192];
    private readonly char[] _chars = new char[Encoding.UTF8.GetMaxCharCount(8192)];
    private long _offset;

    /// <summary>Hands on the complete lines appended since the last read.</summary>
    public void ReadNew()
    {
        if (!File.Exists(path)) return;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            // Shorter than what was read: the step rewrote the file (open with "w" each epoch). Read it again from
            // its start: final values come out right, though a curve may repeat points it had already reported.
            if (file.Length < _offset)
            {
                _offset = 0;
                _decoder.Reset();
            }
            file.Seek(_offset, SeekOrigin.Begin);
            int read;
            while ((read = file.Read(_bytes)) > 0)
            {
                var chars = _decoder.GetChars(_bytes, 0, read, _chars, 0);
                _lines.Feed(_chars.AsSpan(0, chars));
                _offset += read;
            }
        }
        catch (IOException)
        {
            // Being replaced or removed by the step: the next read tries again.
        }
    }

    /// <summary>Reads what is left, the last line too even without its newline.</summary>
    public void Finish()
    {
        ReadNew();
        _lines.Finish();
    }
}
