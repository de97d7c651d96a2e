using System.Security.Cryptography;
using System.Text;

namespace Tuning.Tuner.Grains;

/// <summary>
/// A study file as submitted: its text and the folder its relative paths resolve against. Grains keep this
/// and parse it when they need the spec, so the spec's types never have to cross the wire.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StudySource(string Text, string Directory)
{
    /// <summary>What makes two submissions the same study: the same text in the same folder.</summary>
    public string Hash() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Directory + "\n" + Text)));
}
