using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Tuning.Api.Tests;

/// <summary>One <c>tuner serve</c> shared by every case of the hostile-input corpus.</summary>
public sealed class HostileServer : IAsyncLifetime
{
    public Server Server { get; private set; } = null!;

    /// <summary>A study that ran to its end, for cases aimed at its endpoints (<c>{id}</c> in a request line).</summary>
    public string StudyId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await Server.StartAsync();
        using var client = Server.Client();
        var created = await client.PostAsync("api/studies", Server.Yaml(Server.Study("hostile-target", trials: 3)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        StudyId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await Server.WaitForEndAsync(client, StudyId);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Server.Folder, recursive: true);
    }
}

/// <summary>
/// The corpus under <c>HostileInput/</c>: each file is one hostile request and what the server must answer. Every
/// case gets a 4xx with a problem body naming what is wrong, or a study whose trial ends with a clear error; never a
/// 5xx, a crash or a hang, and the server answers a plain request right after each one. See HostileInput/README.md
/// for the file format.
/// </summary>
public sealed class HostileInputTests(HostileServer fixture) : IClassFixture<HostileServer>
{
    public static string CorpusFolder => Path.Combine(AppContext.BaseDirectory, "HostileInput");

    public static IEnumerable<object[]> Cases() =>
        Directory.EnumerateFiles(CorpusFolder).Where(f => !f.EndsWith("README.md", StringComparison.Ordinal))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(name => new object[] { name! });

    [Fact]
    public void The_corpus_is_there() => Assert.True(Cases().Count() >= 30, $"too few cases in {CorpusFolder}");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_request_gets_a_4xx_or_a_trial_error_and_the_server_stays_up(string name)
    {
        var hostile = HostileCase.Load(Path.Combine(CorpusFolder, name));
        var server = fixture.Server;
        foreach (var (link, target) in hostile.Links)
        {
            var path = Path.Combine(server.Folder, link);
            if (!Path.Exists(path)) Directory.CreateSymbolicLink(path, target);
        }
        using var client = server.Client();
        client.Timeout = TimeSpan.FromSeconds(60);

        var request = new HttpRequestMessage(new HttpMethod(hostile.Method), hostile.Path.Replace("{id}", fixture.StudyId, StringComparison.Ordinal));
        if (hostile.Body is { } body)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            HttpContent content = hostile.Chunked ? new StreamContent(new UnsizedStream(bytes)) : new ByteArrayContent(bytes);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(hostile.ContentType);
            request.Content = content;
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status == hostile.Status, $"{name}: {status} instead of {hostile.Status} after {watch.Elapsed.TotalSeconds:0.0} s: {Short(text)}");

        if (status >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(text).RootElement;
            Assert.Equal(status, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()), $"{name}: a problem without a title");
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), $"{name}: a problem that does not say what is wrong");
            var said = string.Join("\n", Strings(problem));
            foreach (var fragment in hostile.Fragments)
                Assert.True(said.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' is not in the answer: {Short(said)}");
            Assert.True(said.Length < 256 << 10, $"{name}: an answer of {said.Length} characters");
        }
        else if (hostile.TrialStatus is not null)
        {
            var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
            await Server.WaitForEndAsync(client, id);
            var trials = JsonDocument.Parse(await client.GetStringAsync($"api/studies/{id}/trials")).RootElement.GetProperty("trials");
            Assert.True(trials.GetArrayLength() > 0, $"{name}: no trial ran");
            var trial = trials[0];
            var error = trial.TryGetProperty("error", out var e) ? e.GetString() ?? "" : "";
            Assert.True(trial.GetProperty("status").GetString() == hostile.TrialStatus,
                $"{name}: trial {trial.GetProperty("status").GetString()} instead of {hostile.TrialStatus}: {error}");
            foreach (var fragment in hostile.Fragments)
                Assert.True(error.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' is not in the trial's error: {error}");
            foreach (var step in hostile.CappedLogs)
            {
                var log = Path.Combine(server.Folder, "data", "runs", id, "0", step, "stdout.log");
                var length = new FileInfo(log).Length;
                Assert.True(length <= LogLimit + 200, $"{name}: {step}'s stdout.log holds {length} bytes");
                Assert.Contains($"[tuner: log truncated after {LogLimit} bytes]", Trials.Execution.BoundedLines.LastOfFile(log));
            }
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"api/studies/{id}")).StatusCode);
        }

        // Still up, and quick about it.
        using var after = server.Client();
        after.Timeout = TimeSpan.FromSeconds(10);
        Assert.Equal(HttpStatusCode.OK, (await after.GetAsync("api/studies")).StatusCode);
    }

    private static IEnumerable<string> Strings(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => [element.GetString()!],
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Strings(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Strings),
        _ => [],
    };

    private const long LogLimit = 64L << 20;

    private static string Short(string text) => (text.Length > 2000 ? text[..2000] + "…" : text).ReplaceLineEndings(" | ");

    /// <summary>A body whose length is not known up front, so it goes out chunked.</summary>
    private sealed class UnsizedStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>
/// One file of the corpus: <c>#! </c> lines at its top say how to send it and what must come back; the rest is the
/// request body, in which the lines between <c>#! repeat N</c> and <c>#! end</c> are repeated N times with
/// <c>{i}</c> standing for the repetition's number.
/// </summary>
public sealed record HostileCase(
    string Method, string Path, string? Body, string ContentType, bool Chunked, int Status, IReadOnlyList<string> Fragments,
    IReadOnlyList<(string Link, string Target)> Links, string? TrialStatus, IReadOnlyList<string> CappedLogs)
{
    public static HostileCase Load(string file)
    {
        var lines = File.ReadAllText(file).Split('\n');
        var (method, path, contentType, chunked, status, trialStatus) = ("POST", "api/studies", "application/yaml", false, 0, (string?)null);
        var fragments = new List<string>();
        var links = new List<(string, string)>();
        var capped = new List<string>();
        string? query = null;
        var noBody = false;
        var at = 0;
        for (; at < lines.Length && lines[at].StartsWith("#! ", StringComparison.Ordinal); at++)
        {
            var line = lines[at][3..];
            var cut = line.IndexOf(':');
            var (key, value) = (line[..cut].Trim(), line[(cut + 1)..].Trim());
            switch (key)
            {
                case "status": status = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "says": fragments.Add(value); break;
                case "content-type": contentType = value; break;
                case "query": query = value; break;
                case "chunked": chunked = value == "true"; break;
                case "request":
                    (method, path) = (value[..value.IndexOf(' ')], value[(value.IndexOf(' ') + 1)..]);
                    noBody = method is "GET" or "DELETE";
                    break;
                case "link":
                    var arrow = value.IndexOf("->", StringComparison.Ordinal);
                    links.Add((value[..arrow].Trim(), value[(arrow + 2)..].Trim()));
                    break;
                case "trial": trialStatus = value; break;
                case "log-capped": capped.Add(value); break;
                default: throw new InvalidDataException($"{file}: unknown directive '{key}'");
            }
        }
        if (status == 0) throw new InvalidDataException($"{file}: no '#! status:' line");
        var body = new StringBuilder();
        for (; at < lines.Length; at++)
        {
            if (lines[at].StartsWith("#! repeat ", StringComparison.Ordinal))
            {
                var times = int.Parse(lines[at]["#! repeat ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                var end = Array.FindIndex(lines, at, l => l.StartsWith("#! end", StringComparison.Ordinal));
                var block = lines[(at + 1)..end];
                for (var i = 0; i < times; i++)
                    foreach (var l in block)
                        body.Append(l.Replace("{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)).Append('\n');
                at = end;
                continue;
            }
            body.Append(lines[at]);
            if (at < lines.Length - 1) body.Append('\n');
        }
        if (query is not null) path += "?" + query;
        return new HostileCase(method, path, noBody ? null : body.ToString(), contentType, chunked, status, fragments, links, trialStatus, capped);
    }
}
