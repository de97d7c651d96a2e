using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tuning.Trials.Execution;

namespace Tuning.Trials.Caching;

/// <summary>
/// A step's cache key: a SHA-256 over what determines its result. The command after substitution, as a container
/// would see it (folders at their <see cref="MountPoints"/>, whichever executor runs the step), the image, the
/// environment, the contents of the files and folders under the study folder that the command names, and the keys
/// of the steps it depends on. Parameters enter only through substitution, so a step that uses none has one key in every trial; an
/// edited script changes its contents and so the key. The executor is not part of it: a key computed on a laptop and
/// on a cluster is the same.
/// </summary>
public static class StepCacheKey
{
    /// <summary>Raised whenever what goes into a key changes shape, so old entries are simply never found again.</summary>
    private const string Version = "tuning-step-cache-v1";

    /// <summary>Contents hashes by file, valid while the file's size and write time stay the same.</summary>
    private static readonly ConcurrentDictionary<string, (long Length, DateTime Written, byte[] Hash)> FileHashes = new();

    /// <param name="command">The argument vector after substitution, with the study folder at <see cref="MountPoints.Study"/>.</param>
    /// <param name="studyDirectory">The study folder on this machine, where the files the command names are read.</param>
    /// <param name="upstream">The keys of the steps this step depends on, by step name.</param>
    /// <param name="trialId">The trial, for a step that uses its trial's folder: such a step is its trial's alone.</param>
    /// <param name="dataDirectory">
    /// The tuner's data folder (its store and lock, the trial folders, the cache): the tuner's own, never a step's input,
    /// though a study folder may hold it (<c>--data data</c> run from the study folder, with a step that says <c>data</c>).
    /// </param>
    public static string Compute(
        IReadOnlyList<string> command, string? image, IReadOnlyDictionary<string, string> environment,
        string studyDirectory, IReadOnlyDictionary<string, string> upstream, string? trialId = null, string? dataDirectory = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(hash, Version);
        Add(hash, "command", command.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var argument in command) Add(hash, argument);
        Add(hash, "image", image ?? "");
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal)) Add(hash, "env", name, value);
        foreach (var (step, key) in upstream.OrderBy(u => u.Key, StringComparer.Ordinal)) Add(hash, "after", step, key);
        if (trialId is not null) Add(hash, "trial", trialId);
        var study = Path.GetFullPath(studyDirectory).TrimEnd('/') + "/";
        // Only a data folder inside the study folder can be named; one that holds the study folder holds every input too.
        var data = dataDirectory is null ? null : Path.GetFullPath(dataDirectory).TrimEnd('/') + "/";
        var excluded = data is not null && data.Length > study.Length && data.StartsWith(study, StringComparison.Ordinal) ? data : null;
        bool Inputs(string path) => excluded is null || !(path + "/").StartsWith(excluded, StringComparison.Ordinal);
        foreach (var path in NamedPaths(command, study).Where(Inputs).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            AddContents(hash, path, study, Inputs);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The files and folders under the study folder an argument names: the whole argument, each word of it (a
    /// script named inside <c>sh -c "python train.py"</c>; not the target of a redirection, <c>&gt;&gt; log.txt</c>, which
    /// is written, not read), or what follows a word's first '=' (<c>--config=conf.yaml</c>), at the study's mount
    /// point, on this machine, or relative to the study.
    /// </summary>
    private static IEnumerable<string> NamedPaths(IReadOnlyList<string> command, string study)
    {
        const string mounted = MountPoints.Study + "/";
        foreach (var argument in command)
        {
            var words = ReadWords(argument).Prepend(argument).Distinct();
            foreach (var text in words.SelectMany(w => w.IndexOf('=') is > 0 and var cut ? [w, w[(cut + 1)..]] : new[] { w }))
            {
                if (text.Length == 0 || text.Contains('\0')) continue;
                var relative = text.StartsWith(mounted, StringComparison.Ordinal) ? text[mounted.Length..] : text;
                var full = Path.GetFullPath(Path.IsPathRooted(relative) ? relative : Path.Combine(study, relative));
                if (full.StartsWith(study, StringComparison.Ordinal) && (File.Exists(full) || Directory.Exists(full)))
                    yield return full;
            }
        }
    }

    /// <summary>The words of a shell command line, split at blanks, quotes and operators, without redirection targets.</summary>
    private static List<string> ReadWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var written = false;
        void End()
        {
            if (word.Length > 0 && !written) words.Add(word.ToString());
            if (word.Length > 0) written = false;
            word.Clear();
        }
        foreach (var c in text)
        {
            if (c == '>')
            {
                End();
                written = true;
            }
            else if (char.IsWhiteSpace(c) || c is ';' or '|' or '&' or '(' or ')' or '<' or '\'' or '"' or '`') End();
            else word.Append(c);
        }
        End();
        return words;
    }

    /// <summary>
    /// A file's contents, or a folder's files (by path relative to the study folder, in order) and theirs. Links are
    /// hashed as the text they hold, never followed (a link to a dataset elsewhere, or a loop, costs nothing); hidden
    /// files and folders inside a named folder (<c>.git</c>, a <c>.tuner</c> data folder) are not part of the key, nor
    /// what <paramref name="inputs"/> refuses (the tuner's data folder, whatever its name).
    /// </summary>
    private static void AddContents(IncrementalHash hash, string path, string study, Func<string, bool> inputs)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target)
        {
            Add(hash, "link", Path.GetRelativePath(study, path), target);
            return;
        }
        if (File.Exists(path))
        {
            Add(hash, "file", Path.GetRelativePath(study, path));
            hash.AppendData(ContentsHash(info));
            return;
        }
        Add(hash, "folder", Path.GetRelativePath(study, path));
        var entries = new DirectoryInfo(path).EnumerateFileSystemInfos()
            .Where(e => !e.Name.StartsWith('.') && inputs(e.FullName))
            .OrderBy(e => e.Name, StringComparer.Ordinal);
        foreach (var entry in entries) AddContents(hash, entry.FullName, study, inputs);
    }

    /// <summary>Files larger than this are known by their size and write time, not read whole for every new key.</summary>
    private const long LargestHashed = 64L << 20;

    private static byte[] ContentsHash(FileInfo info)
    {
        if (info.Length > LargestHashed)
            return Encoding.UTF8.GetBytes($"{info.Length}:{info.LastWriteTimeUtc.Ticks}");
        if (FileHashes.TryGetValue(info.FullName, out var known) && known.Length == info.Length && known.Written == info.LastWriteTimeUtc)
            return known.Hash;
        byte[] contents;
        using (var stream = File.OpenRead(info.FullName)) contents = SHA256.HashData(stream);
        FileHashes[info.FullName] = (info.Length, info.LastWriteTimeUtc, contents);
        return contents;
    }

    /// <summary>Each text with its length first, so ("ab", "c") and ("a", "bc") hash differently.</summary>
    private static void Add(IncrementalHash hash, params string[] texts)
    {
        foreach (var text in texts)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }
    }
}
