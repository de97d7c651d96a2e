using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tuning.Api.Service;
using Tuning.Tuner;

namespace Tuning.Api.Tests;

/// <summary>
/// What a server keeps to itself: API keys (stored as hashes, never logged, written or handed to steps), one
/// namespace's studies (on every endpoint, plots and dashboard included), and its data folder (0700, its files 0600).
/// </summary>
public sealed class SecurityTests
{
    private const string KeyA = "tk_0123456789abcdef-team-a-secret";
    private const string KeyB = "tk_fedcba9876543210-team-b-secret";
    private const string Guessed = "tk_guessed-by-an-attacker-secret";

    [Fact]
    public async Task Keys_are_stored_hashed_and_never_logged_written_or_given_to_steps()
    {
        var folder = Directory.CreateTempSubdirectory("tuning-secrets-").FullName;
        try
        {
            var keys = Server.KeysFile(folder, KeyA, KeyB);
            Assert.DoesNotContain(KeyA, File.ReadAllText(keys));
            var url = $"http://127.0.0.1:{TuningSilo.FreePort()}";
            // The server's own environment holds a client key, as a shell that also runs `tuner submit` might.
            using var server = Tuner.Start(folder, [("TUNER_KEY", KeyB)],
                "serve", "--urls", url, "--data", Path.Combine(folder, "data"), "--keys", keys);
            var output = Tuner.Collect(server);
            try
            {
                using var a = new HttpClient { BaseAddress = new Uri(url + "/") };
                a.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KeyA);
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (true)
                {
                    try
                    {
                        if ((await a.GetAsync("api/studies")).IsSuccessStatusCode) break;
                    }
                    catch (HttpRequestException)
                    {
                    }
                    Assert.True(DateTime.UtcNow < deadline, "the server did not start: " + output);
                    await Task.Delay(200);
                }

                // A step that prints its whole environment into its log, and requests with wrong keys besides.
                var study = Server.Study("env", trials: 1, parallel: 1).Replace("sleep 0;", "env;");
                var created = await a.PostAsync("api/studies", Server.Yaml(study));
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                Assert.Equal("Succeeded", (await Server.WaitForEndAsync(a, id)).GetProperty("status").GetString());
                foreach (var (header, value) in new[] { ("Authorization", "Bearer " + Guessed), ("X-Api-Key", Guessed), ("Authorization", "Basic " + Guessed) })
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, url + "/api/studies");
                    request.Headers.TryAddWithoutValidation(header, value);
                    using var anonymous = new HttpClient();
                    var refused = await anonymous.SendAsync(request);
                    Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                    Assert.DoesNotContain(Guessed, await refused.Content.ReadAsStringAsync());
                }
                var log = Directory.EnumerateFiles(Path.Combine(folder, "data", "runs"), "stdout.log", SearchOption.AllDirectories).Single();
                Assert.Contains("TUNER_TRIAL_ID=", File.ReadAllText(log));
            }
            finally
            {
                server.Kill();
                await server.WaitForExitAsync();
            }

            // Not in what the server printed, nor in any file it wrote (the store, logs, cache) or was given.
            var said = output.ToString();
            foreach (var secret in new[] { KeyA, KeyB, Guessed })
            {
                Assert.DoesNotContain(secret, said);
                foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
                    Assert.False(Contains(file, secret), $"{file} holds a key");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static bool Contains(string file, string secret)
    {
        var bytes = File.ReadAllBytes(file);
        return bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0 || bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)) >= 0;
    }

    [Fact]
    public async Task Another_namespace_s_key_gets_404_on_every_endpoint_and_never_the_data()
    {
        var folder = Directory.CreateTempSubdirectory("tuning-isolation-").FullName;
        try
        {
            await using var server = await Server.StartAsync(folder, Server.KeysFile(folder, KeyA, KeyB));
            using var a = server.Client(KeyA);
            using var b = server.Client(KeyB);
            var secretName = "b-private-study";
            var created = await b.PostAsync("api/studies", Server.Yaml(Server.Study(secretName, trials: 4)));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var theirs = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            await Server.WaitForEndAsync(b, theirs);

            var requests = new List<(string Method, string Path)>
            {
                ("GET", $"api/studies/{theirs}"), ("GET", $"api/studies/{theirs}/trials"),
                ("GET", $"api/studies/{theirs}/trials?status=Succeeded&sort=-value&limit=2"), ("GET", $"api/studies/{theirs}/spec"),
                ("POST", $"api/studies/{theirs}/stop"), ("DELETE", $"api/studies/{theirs}"),
                ("GET", $"api/studies/{theirs}/plots/intermediate.svg?trials=0,1"), ("GET", $"api/studies/{theirs}/plots/contour.png?params=x,lr"),
            };
            foreach (var kind in Reports.Plots.Kinds)
                foreach (var extension in new[] { "svg", "png" })
                    requests.Add(("GET", $"api/studies/{theirs}/plots/{kind}.{extension}"));
            foreach (var (method, path) in requests)
            {
                // The owner gets it (so the 404 is about the namespace, not the request)...
                if (method == "GET") Assert.True((await b.GetAsync(path)).IsSuccessStatusCode, $"{path} fails for its own namespace");
                // ...another namespace does not, and learns nothing of it.
                var response = await a.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain(secretName, await response.Content.ReadAsStringAsync());
            }
            Assert.Equal("[]", await a.GetStringAsync("api/studies"));
            // The dashboard's page and scripts are the same for everyone and hold no study; its data comes from the API above.
            foreach (var page in new[] { "", "dashboard/dashboard.js" })
            {
                var response = await a.GetAsync(page);
                if (response.StatusCode == HttpStatusCode.NotFound) continue;
                var text = await response.Content.ReadAsStringAsync();
                Assert.DoesNotContain(theirs, text);
                Assert.DoesNotContain(secretName, text);
            }
            // Nor can it submit a study from the other namespace's workdir.
            var across = await a.PostAsync("api/studies?dir=../b", Server.Yaml(Server.Study()));
            Assert.Equal(HttpStatusCode.BadRequest, across.StatusCode);
            Assert.Contains("outside this namespace's workdir", await across.Content.ReadAsStringAsync());

            // Still there and whole for its owner.
            Assert.Equal(HttpStatusCode.OK, (await b.GetAsync($"api/studies/{theirs}")).StatusCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_data_folder_is_private_to_the_tuner_s_user()
    {
        var folder = Directory.CreateTempSubdirectory("tuning-private-").FullName;
        try
        {
            // A folder a user made (the workdir) keeps its mode; the data folder the tuner makes is its own.
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
            await using (var server = await Server.StartAsync(folder))
            {
                using var client = server.Client();
                var created = await client.PostAsync("api/studies", Server.Yaml(Server.Study("private", trials: 2)));
                var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                await Server.WaitForEndAsync(client, id);
            }
            var data = Path.Combine(folder, "data");
            AssertMode(data, 0b111_000_000);
            AssertMode(Path.Combine(data, "tuner.db"), 0b110_000_000);
            foreach (var file in new[] { "tuner.db-wal", "tuner.db-shm" })
                if (File.Exists(Path.Combine(data, file))) AssertMode(Path.Combine(data, file), 0b110_000_000);
            AssertMode(Path.Combine(data, "runs"), 0b111_000_000);
            AssertMode(Path.Combine(data, "cache"), 0b111_000_000);
            foreach (var log in Directory.EnumerateFiles(data, "*.log", SearchOption.AllDirectories))
                AssertMode(log, 0b110_000_000);
            foreach (var entry in Directory.EnumerateFiles(Path.Combine(data, "cache"), "entry.json", SearchOption.AllDirectories))
                AssertMode(entry, 0b110_000_000);
            Assert.NotEmpty(Directory.EnumerateFiles(data, "stdout.log", SearchOption.AllDirectories));

            // tuner run makes its data folder and lock private too.
            var runData = Path.Combine(folder, "run-data");
            File.WriteAllText(Path.Combine(folder, "study.yaml"), Server.Study("private-run", trials: 1, parallel: 1));
            var (exit, output, error) = await Tuner.RunAsync(folder, "run", "study.yaml", "--data", runData, "--out", Path.Combine(folder, "out"));
            Assert.True(exit == 0, output + error);
            AssertMode(runData, 0b111_000_000);
            AssertMode(Path.Combine(runData, "tuner.lock"), 0b110_000_000);
            AssertMode(Path.Combine(runData, "tuner.db"), 0b110_000_000);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void AssertMode(string path, int mode) =>
        Assert.True((int)File.GetUnixFileMode(path) == mode, $"{path} is {Convert.ToString((int)File.GetUnixFileMode(path), 8)}, not {Convert.ToString(mode, 8)}");
}
