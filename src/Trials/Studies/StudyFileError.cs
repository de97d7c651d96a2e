namespace Tuning.Trials.Studies;

/// <summary>One problem in a study file: where (field path and, where known, line and column) and what is allowed.</summary>
/// <param name="Path">The field path, as a program matches it: <c>parameters[2].values</c>.</param>
public sealed record StudyFileError(string Path, int Line, int Column, string Message)
{
    /// <summary>The path as a person reads it, with the names of the entries it passes: <c>parameters[2] (lr).values</c>.</summary>
    public string? Label { get; init; }

    public override string ToString() =>
        string.Join(" ", new[] { Path.Length == 0 ? null : Label ?? Path, Line > 0 ? $"(line {Line}, column {Column})" : null }.OfType<string>()) is { Length: > 0 } where
            ? $"{where}: {Message}"
            : Message;
}

/// <summary>Thrown with every problem a study file has, so a user fixes them all in one go.</summary>
public sealed class StudyFileException(IReadOnlyList<StudyFileError> errors)
    : Exception("invalid study file:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    public IReadOnlyList<StudyFileError> Errors { get; } = errors;
}
