using System.Text.Json.Nodes;

namespace Tuning.Tests.Shared;

/// <summary>Kale-tagged notebooks for tests.</summary>
public static class TaggedNotebook
{
    /// <summary>A notebook of code cells, each given as (space-separated tags, source), with <paramref name="tuning"/> (JSON) as its metadata's tuning key.</summary>
    public static string Of(IEnumerable<(string Tags, string Source)> cells, string tuning) =>
        new JsonObject
        {
            ["cells"] = new JsonArray([.. cells.Select(c => (JsonNode)new JsonObject
            {
                ["cell_type"] = "code",
                ["metadata"] = new JsonObject { ["tags"] = new JsonArray([.. c.Tags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => (JsonNode)t)]) },
                ["source"] = c.Source,
                ["outputs"] = new JsonArray(),
            })]),
            ["metadata"] = new JsonObject { ["tuning"] = JsonNode.Parse(tuning) },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        }.ToJsonString();
}
