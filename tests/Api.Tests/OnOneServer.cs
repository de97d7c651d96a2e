using System.Net;
using System.Text.Json;

namespace Tuning.Api.Tests;

/// <summary>Tests against one real <c>tuner serve</c> each, started before and removed (with its folder) after every test.</summary>
public abstract class OnOneServer : IAsyncLifetime
{
    protected Server _server = null!;
    protected HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await Server.StartAsync();
        _client = _server.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_server.Folder, recursive: true);
    }

    /// <summary>The answer's JSON, asserting its status (the body is in the message otherwise).</summary>
    protected static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} instead of {(int)expected}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
