using System.Security.Cryptography;
using System.Text;

namespace Tuning.Tuner.Grains;

/// <summary>
/// A study file as submitted: its text, the folder its relative paths resolve against, and the namespace it
/// belongs to. Grains keep this and parse it when they need the spec, so the spec's types never cross the wire.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StudySource(string Text, string Directory, string Namespace = StudySource.DefaultNamespace)
{
    /// <summary>The namespace of studies submitted without API keys (the command line's, and a keyless server's).</summary>
    public const string DefaultNamespace = "default";

    /// <summary>What makes two submissions the same study: the same text in the same folder and namespace.</summary>
    public string Hash() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Namespace + "\n" + Directory + "\n" + Text)));
}
