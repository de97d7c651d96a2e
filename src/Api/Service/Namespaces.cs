using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tuning.Api.Service;

/// <summary>One namespace of a server: the SHA-256 hashes of its API keys, and the folder its studies' files are read from.</summary>
/// <param name="Operator">Whether its keys open the Orleans Dashboard, which shows every namespace's grains.</param>
public sealed record NamespaceConfig(string Name, IReadOnlyList<string> KeySha256, string Workdir, bool Operator = false);

/// <summary>
/// Who a request is. With a keys file, each key belongs to one namespace and a request without a valid key is
/// refused; keys are kept only as SHA-256 hashes, so the file gives no key away. Without one, every request is
/// the default namespace's (and the server listens on loopback only unless told otherwise).
/// </summary>
public sealed class Namespaces
{
    private readonly Dictionary<string, NamespaceConfig> _byKeyHash = new(StringComparer.Ordinal);

    private Namespaces(IReadOnlyList<NamespaceConfig> all, bool keyed)
    {
        All = all;
        Keyed = keyed;
        foreach (var ns in all)
            foreach (var hash in ns.KeySha256)
                if (!_byKeyHash.TryAdd(hash.ToLowerInvariant(), ns))
                    throw new InvalidDataException($"a key hash is listed under both namespaces '{_byKeyHash[hash.ToLowerInvariant()].Name}' and '{ns.Name}'; a key opens one namespace");
    }

    public IReadOnlyList<NamespaceConfig> All { get; }

    /// <summary>Whether requests must carry a key.</summary>
    public bool Keyed { get; }

    public static Namespaces Open(string workdir) =>
        new([new NamespaceConfig(Tuner.Grains.StudySource.DefaultNamespace, [], Path.GetFullPath(workdir), Operator: true)], keyed: false);

    /// <summary>
    /// Reads a keys file: <c>{"namespaces": {"team-a": {"keys": ["SHA-256 hex"], "workdir": "/srv/team-a"}}}</c>;
    /// <c>"operator": true</c> lets a namespace's keys open the Orleans Dashboard. A relative workdir is the file's folder's. Throws <see cref="InvalidDataException"/> saying what is wrong.
    /// </summary>
    public static Namespaces Load(string path)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            root = document.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
        if (!root.TryGetProperty("namespaces", out var namespaces) || namespaces.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected {{\"namespaces\": {{\"NAME\": {{\"keys\": [\"SHA-256 hex\"], \"workdir\": \"DIR\"}}}}}}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var all = new List<NamespaceConfig>();
        foreach (var ns in namespaces.EnumerateObject())
        {
            var keys = ns.Value.TryGetProperty("keys", out var k) && k.ValueKind == JsonValueKind.Array
                ? k.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
                : [];
            if (keys.Length == 0 || keys.Any(h => h.Length != 64 || !h.All(Uri.IsHexDigit)))
                throw new InvalidDataException($"{path}: namespaces.{ns.Name}.keys must list SHA-256 hashes of keys (64 hex digits; `tuner key {ns.Name}` makes one)");
            var workdir = ns.Value.TryGetProperty("workdir", out var w) ? w.GetString() ?? "." : ".";
            var isOperator = ns.Value.TryGetProperty("operator", out var o) && o.ValueKind == JsonValueKind.True;
            all.Add(new NamespaceConfig(ns.Name, keys, Path.GetFullPath(Path.Combine(folder, workdir)), isOperator));
        }
        if (all.Count == 0) throw new InvalidDataException($"{path}: no namespaces");
        return new Namespaces(all, keyed: true);
    }

    /// <summary>The namespace a request's key opens; the only one when unkeyed; null for a missing or unknown key.</summary>
    public NamespaceConfig? Resolve(string? key) =>
        !Keyed ? All[0]
        : string.IsNullOrEmpty(key) ? null
        : _byKeyHash.GetValueOrDefault(Hash(key));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A new random key, as <c>tuner key</c> prints it.</summary>
    public static string NewKey() => "tk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
