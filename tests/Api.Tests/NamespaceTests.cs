using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Tuning.Api.Service;

namespace Tuning.Api.Tests;

/// <summary>A server with API keys: no key is 401, and one namespace's key neither sees nor touches another's studies.</summary>
public sealed class NamespaceTests : IAsyncLifetime
{
    private const string KeyA = "tk_key-of-team-a";
    private const string KeyB = "tk_key-of-team-b";
    private const string KeyOps = "tk_key-of-operators";
    private readonly string _folder = Directory.CreateTempSubdirectory("tuning-keys-").FullName;
    private Server _server = null!;

    public async Task InitializeAsync()
    {
        var keys = Server.KeysFile(_folder, KeyA, KeyB, KeyOps);
        Assert.DoesNotContain(KeyA, File.ReadAllText(keys));
        _server = await Server.StartAsync(_folder, keys);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Requests_without_a_valid_key_are_401()
    {
        using var anonymous = _server.Client();
        using var wrong = _server.Client("tk_guessed");
        foreach (var client in new[] { anonymous, wrong })
        {
            var response = await client.GetAsync("api/studies");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("api/studies", Server.Yaml(Server.Study()))).StatusCode);
        }
        // The dashboard's files and the OpenAPI document are public; the dashboard asks for a key itself.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task A_key_sees_and_touches_only_its_namespace_on_every_endpoint()
    {
        using var a = _server.Client(KeyA);
        using var b = _server.Client(KeyB);
        var created = await b.PostAsync("api/studies", Server.Yaml(Server.Study(trials: 2, sleep: 30)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var theirs = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        Assert.Equal("[]", await a.GetStringAsync("api/studies"));
        foreach (var (method, path) in new[]
                 {
                     ("GET", $"api/studies/{theirs}"), ("GET", $"api/studies/{theirs}/trials"), ("GET", $"api/studies/{theirs}/spec"),
                     ("GET", $"api/studies/{theirs}/plots/history.svg"), ("GET", $"api/studies/{theirs}/trials/0"),
                     ("GET", $"api/studies/{theirs}/trials/0/logs?step=s"), ("GET", $"api/studies/{theirs}/events"),
                     ("POST", $"api/studies/{theirs}/stop"), ("DELETE", $"api/studies/{theirs}"),
                 })
            Assert.Equal(HttpStatusCode.NotFound, (await a.SendAsync(new HttpRequestMessage(new HttpMethod(method), path))).StatusCode);
        // Ask, report, tell and heartbeat too, with bodies they would take.
        Assert.Equal(HttpStatusCode.NotFound, (await a.PostAsync($"api/studies/{theirs}/trials", null)).StatusCode);
        foreach (var verb in new[] { "report", "tell", "heartbeat" })
            Assert.Equal(HttpStatusCode.NotFound, (await a.PostAsJsonAsync($"api/studies/{theirs}/trials/0/{verb}",
                new { attempt = "a", step = 1, metrics = new { objective = 1.0 } })).StatusCode);

        // Untouched: still running in its own namespace, which sees it.
        var study = JsonDocument.Parse(await b.GetStringAsync($"api/studies/{theirs}")).RootElement;
        Assert.Equal("Running", study.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await b.PostAsync($"api/studies/{theirs}/stop", null)).StatusCode);
    }

    [Fact]
    public async Task The_orleans_dashboard_opens_only_to_operator_keys()
    {
        using var anonymous = _server.Client();
        using var team = _server.Client(KeyA);
        using var operators = _server.Client(KeyOps);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("orleans/")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await team.GetAsync("orleans/")).StatusCode);
        var page = await operators.GetAsync("orleans/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Orleans Dashboard", await page.Content.ReadAsStringAsync());
        // The OpenAPI document describes the tuner's API, not the Orleans Dashboard's assets.
        Assert.DoesNotContain("/orleans", await anonymous.GetStringAsync("openapi/v1.json"));
    }

    [Fact]
    public async Task An_operator_key_sees_and_stops_every_namespace_s_studies()
    {
        using var b = _server.Client(KeyB);
        using var operators = _server.Client(KeyOps);
        var created = await b.PostAsync("api/studies", Server.Yaml(Server.Study(trials: 2, sleep: 30)));
        var theirs = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        Assert.Contains(theirs!, await operators.GetStringAsync("api/studies"));
        Assert.Equal(HttpStatusCode.OK, (await operators.PostAsync($"api/studies/{theirs}/stop", null)).StatusCode);
    }
}
