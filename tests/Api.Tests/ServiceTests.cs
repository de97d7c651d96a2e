using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Tuning.Api.Service;
using Tuning.Trials.Execution;

namespace Tuning.Api.Tests;

/// <summary>Every endpoint and every error status of <c>tuner serve</c>, over real HTTP.</summary>
public sealed class ServiceTests : OnOneServer
{
    private async Task<string> SubmitAsync(string yaml)
    {
        var created = await _client.PostAsync("api/studies", Server.Yaml(yaml));
        var study = await Json(created, HttpStatusCode.Created);
        Assert.Equal($"/api/studies/{study.GetProperty("id").GetString()}", created.Headers.Location!.OriginalString);
        return study.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_study_of_several_objectives_shows_its_front_and_hypervolume()
    {
        var id = await SubmitAsync(RunCommandTests.TwoObjectives);
        Assert.Equal("Succeeded", (await Server.WaitForEndAsync(_client, id)).GetProperty("status").GetString());
        var one = await Json(await _client.GetAsync($"api/studies/{id}"), HttpStatusCode.OK);
        Assert.Equal([0, 1, 2, 3], one.GetProperty("paretoTrials").EnumerateArray().Select(t => t.GetProperty("number").GetInt32()));
        Assert.Equal(["a minimize", "b minimize"], one.GetProperty("objectives").EnumerateArray().Select(o => $"{o.GetProperty("metric")} {o.GetProperty("goal")}"));
        Assert.Equal(28.45, one.GetProperty("hypervolume").GetProperty("value").GetDouble(), 9);
        Assert.Equal([3.3, 17.5], one.GetProperty("hypervolume").GetProperty("reference").EnumerateArray().Select(r => Math.Round(r.GetDouble(), 9)));
        foreach (var kind in Reports.Plots.ParetoKinds)
            Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"api/studies/{id}/plots/{kind}.svg")).StatusCode);
    }

    [Fact]
    public async Task A_hypervolume_beyond_a_doubles_range_is_null_and_its_history_plot_says_why()
    {
        // References of 1e300 make a volume of about 1e600, which study.json (tuner run's, one writer with this answer)
        // failed to write, ending the run with an unhandled exception.
        var id = await SubmitAsync(RunCommandTests.TwoObjectives.Replace("name: front", "name: huge")
            .Replace("{metric: a, goal: minimize}", "{metric: a, goal: minimize, reference: 1e300}")
            .Replace("{metric: b, goal: minimize}", "{metric: b, goal: minimize, reference: 1e300}"));
        Assert.Equal("Succeeded", (await Server.WaitForEndAsync(_client, id)).GetProperty("status").GetString());
        var hypervolume = (await Json(await _client.GetAsync($"api/studies/{id}"), HttpStatusCode.OK)).GetProperty("hypervolume");
        Assert.Equal(JsonValueKind.Null, hypervolume.GetProperty("value").ValueKind);
        Assert.Equal([1e300, 1e300], hypervolume.GetProperty("reference").EnumerateArray().Select(r => r.GetDouble()));
        var history = await Json(await _client.GetAsync($"api/studies/{id}/plots/hypervolume-history.svg"), HttpStatusCode.BadRequest);
        Assert.Contains("beyond a double's range", history.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"api/studies/{id}/plots/pareto-front.svg")).StatusCode);
    }

    [Fact]
    public async Task A_study_is_submitted_listed_read_paged_and_its_spec_returned()
    {
        var id = await SubmitAsync(Server.Study(trials: 7));
        var end = await Server.WaitForEndAsync(_client, id);
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());
        Assert.Equal(7, end.GetProperty("succeeded").GetInt32());
        // Trials that ran to an end, stopped early among them, and the steps taken from the cache.
        Assert.Equal(7, end.GetProperty("done").GetInt32());
        Assert.Equal(0, end.GetProperty("earlyStopped").GetInt32());
        Assert.True(end.GetProperty("cachedSteps").GetInt32() >= 0);

        var list = await Json(await _client.GetAsync("api/studies"), HttpStatusCode.OK);
        Assert.Contains(list.EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        // The study's own view names the trial its model recommends, as study.json does, and whether the model learnt.
        var one = await Json(await _client.GetAsync($"api/studies/{id}"), HttpStatusCode.OK);
        var recommended = one.GetProperty("recommendedTrial");
        Assert.InRange(recommended.GetProperty("number").GetInt32(), 0, 6);
        Assert.Equal(JsonValueKind.Number, recommended.GetProperty("metrics").GetProperty("objective").ValueKind);
        Assert.Contains(one.GetProperty("modelLearnt").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        // What it spent, beside the resource budgets it has none of: each of its 7 trials reported steps 1 and 2.
        var resources = one.GetProperty("resources");
        Assert.Equal(14, resources.GetProperty("steps").GetInt64());
        Assert.Equal(JsonValueKind.Null, resources.GetProperty("maxSteps").ValueKind);
        Assert.True(resources.GetProperty("seconds").GetDouble() > 0);

        var first = await Json(await _client.GetAsync($"api/studies/{id}/trials?sort=-value&limit=4"), HttpStatusCode.OK);
        Assert.Equal(7, first.GetProperty("total").GetInt32());
        var next = first.GetProperty("next").GetString();
        var second = await Json(await _client.GetAsync($"api/studies/{id}/trials?sort=-value&limit=4&after={next}"), HttpStatusCode.OK);
        var values = first.GetProperty("trials").EnumerateArray().Concat(second.GetProperty("trials").EnumerateArray())
            .Select(t => t.GetProperty("metrics").GetProperty("objective").GetDouble()).ToArray();
        Assert.Equal(7, values.Length);
        Assert.Equal(values.OrderDescending(), values);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        var trial = first.GetProperty("trials")[0];
        Assert.Equal(JsonValueKind.String, trial.GetProperty("parameters").GetProperty("opt").ValueKind);
        Assert.Equal(JsonValueKind.Number, trial.GetProperty("parameters").GetProperty("x").ValueKind);
        Assert.Equal(2, trial.GetProperty("intermediate").GetProperty("objective").GetArrayLength());
        // No enqueue list: every trial is the algorithm's, and the API says so as study.json does.
        Assert.All(first.GetProperty("trials").EnumerateArray(), t => Assert.Equal("suggested", t.GetProperty("source").GetString()));

        var failed = await Json(await _client.GetAsync($"api/studies/{id}/trials?status=Failed"), HttpStatusCode.OK);
        Assert.Equal(0, failed.GetProperty("total").GetInt32());

        var spec = await _client.GetAsync($"api/studies/{id}/spec");
        Assert.Equal(HttpStatusCode.OK, spec.StatusCode);
        Assert.Equal(Server.Study(trials: 7), await spec.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_bad_study_is_400_listing_every_field_with_its_line_and_column()
    {
        var response = await _client.PostAsync("api/studies", Server.Yaml("name: Bad Name\nobjective: {metric: m, goal: sideways}\nbudget: {maxTrials: 0}\n"));
        var problem = await Json(response, HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = problem.GetProperty("errors").EnumerateArray().ToArray();
        var goal = Assert.Single(errors, e => e.GetProperty("path").GetString() == "objective.goal");
        Assert.Equal(2, goal.GetProperty("line").GetInt32());
        Assert.Equal(30, goal.GetProperty("column").GetInt32());
        Assert.Contains(errors, e => e.GetProperty("path").GetString() == "name");
        Assert.Contains(errors, e => e.GetProperty("path").GetString() == "budget.maxTrials");
        Assert.Contains(errors, e => e.GetProperty("path").GetString() == "parameters");
        Assert.Empty(await _client.GetFromJsonAsync<JsonElement[]>("api/studies") ?? []);
    }

    [Fact]
    public async Task Json_bodies_are_study_files_too_and_a_folder_outside_the_workdir_is_refused()
    {
        var json = """{"name": "j", "objective": {"metric": "objective", "goal": "minimize"}, "budget": {"maxTrials": 1}, "parameters": [{"name": "x", "type": "int", "min": 0, "max": 2}], "trial": {"steps": [{"name": "s", "command": ["sh", "-c", "echo objective=1"]}]}}""";
        var created = await _client.PostAsync("api/studies", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        await Json(created, HttpStatusCode.Created);
        var outside = await Json(await _client.PostAsync("api/studies?dir=../..", Server.Yaml(Server.Study())), HttpStatusCode.BadRequest);
        Assert.Equal("dir", outside.GetProperty("errors")[0].GetProperty("path").GetString());
        // A link inside the workdir that leads out of it is outside too.
        // A link inside the workdir that leads out of it is outside too, through a chain of links as well.
        var outsideFolder = Directory.CreateTempSubdirectory("tuning-outside-").FullName;
        Directory.CreateDirectory(Path.Combine(outsideFolder, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(_server.Folder, "escape"), outsideFolder);
        Directory.CreateDirectory(Path.Combine(_server.Folder, "inner"));
        Directory.CreateSymbolicLink(Path.Combine(_server.Folder, "inner", "chain"), Path.Combine(_server.Folder, "escape", "sub"));
        foreach (var dir in new[] { "escape", "inner/chain" })
        {
            var linked = await Json(await _client.PostAsync($"api/studies?dir={dir}", Server.Yaml(Server.Study())), HttpStatusCode.BadRequest);
            Assert.Contains("outside this namespace's workdir", linked.GetProperty("detail").GetString());
        }
        Directory.Delete(outsideFolder, recursive: true);
        await Json(await _client.PostAsync("api/studies?dir=%00", Server.Yaml(Server.Study())), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_oversized_body_is_413()
    {
        var huge = new string('#', Trials.Studies.StudyFile.MaxBytes + 10);
        var problem = await Json(await _client.PostAsync("api/studies", Server.Yaml(huge)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("at most 4 MiB", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("GET", "api/studies/0123456789abcdef0123456789abcdef")]
    [InlineData("GET", "api/studies/not-an-id")]
    [InlineData("GET", "api/studies/0123456789abcdef0123456789abcdef/trials")]
    [InlineData("GET", "api/studies/0123456789abcdef0123456789abcdef/spec")]
    [InlineData("POST", "api/studies/0123456789abcdef0123456789abcdef/stop")]
    [InlineData("DELETE", "api/studies/0123456789abcdef0123456789abcdef")]
    [InlineData("GET", "api/studies/0123456789abcdef0123456789abcdef/plots/history.svg")]
    public async Task Unknown_studies_are_404_problems(string method, string path)
    {
        var problem = await Json(await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)), HttpStatusCode.NotFound);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Bad_queries_are_400_problems()
    {
        var id = await SubmitAsync(Server.Study(trials: 1));
        foreach (var (query, parameter, quoted) in new[]
                 {
                     ("status=Sleeping", "status", "Sleeping"), ("sort=colour", "sort", "colour"), ("limit=0", "limit", "0"),
                     ("limit=5000", "limit", "5000"), ("limit=abc", "limit", "abc"), ("after=nonsense", "after", "nonsense"),
                     // A value is quoted with its control and bidirectional characters escaped, as every answer quotes a request.
                     ("sort=a%0Ab%E2%80%AE", "sort", "a\\u000ab\\u202e"),
                 })
        {
            var problem = await Json(await _client.GetAsync($"api/studies/{id}/trials?{query}"), HttpStatusCode.BadRequest);
            Assert.Equal(400, problem.GetProperty("status").GetInt32());
            Assert.Equal("Invalid query", problem.GetProperty("title").GetString());
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.StartsWith($"{parameter} must ", detail);
            Assert.Contains($"got {quoted}", detail.Replace("'", ""));
        }
    }

    [Fact]
    public async Task Stopping_a_running_study_kills_its_trials_and_stopping_it_again_is_409()
    {
        var id = await SubmitAsync(Server.Study(trials: 4, parallel: 2, sleep: 30));
        await Task.Delay(500);
        var stopped = await Json(await _client.PostAsync($"api/studies/{id}/stop", null), HttpStatusCode.OK);
        Assert.Equal("Stopped", stopped.GetProperty("status").GetString());
        var trials = await Json(await _client.GetAsync($"api/studies/{id}/trials"), HttpStatusCode.OK);
        Assert.All(trials.GetProperty("trials").EnumerateArray(), t => Assert.Equal("Cancelled", t.GetProperty("status").GetString()));
        var conflict = await Json(await _client.PostAsync($"api/studies/{id}/stop", null), HttpStatusCode.Conflict);
        Assert.Contains("Stopped", conflict.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Deleting_a_running_study_removes_it()
    {
        var id = await SubmitAsync(Server.Study(trials: 4, parallel: 2, sleep: 30));
        await Task.Delay(300);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"api/studies/{id}")).StatusCode);
        await Json(await _client.GetAsync($"api/studies/{id}"), HttpStatusCode.NotFound);
        // Its folders go in the background, once the delete has answered.
        var runs = Path.Combine(_server.Folder, "data", "runs", id);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Directory.Exists(runs) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.False(Directory.Exists(runs));
    }

    [Fact]
    public async Task A_stop_racing_a_delete_is_never_a_server_error()
    {
        for (var race = 0; race < 10; race++)
        {
            var id = await SubmitAsync(Server.Study(trials: 2, parallel: 2, sleep: 30));
            var stop = _client.PostAsync($"api/studies/{id}/stop", null);
            var delete = _client.DeleteAsync($"api/studies/{id}");
            var stopped = await stop;
            Assert.True(stopped.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.Conflict,
                $"stop answered {(int)stopped.StatusCode}: {await stopped.Content.ReadAsStringAsync()}");
            Assert.Equal(HttpStatusCode.NoContent, (await delete).StatusCode);
            await Json(await _client.PostAsync($"api/studies/{id}/stop", null), HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Plots_are_svg_documents_with_their_series_and_pngs_that_decode()
    {
        var id = await SubmitAsync(Server.Study(trials: 8));
        await Server.WaitForEndAsync(_client, id);
        foreach (var kind in Reports.Plots.Kinds)
        {
            var svg = await _client.GetAsync($"api/studies/{id}/plots/{kind}.svg");
            Assert.True(svg.StatusCode == HttpStatusCode.OK, $"{kind}: {(int)svg.StatusCode} {await svg.Content.ReadAsStringAsync()}");
            Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
            var document = XDocument.Parse(await svg.Content.ReadAsStringAsync());
            Assert.Equal("svg", document.Root!.Name.LocalName);
            var png = await (await _client.GetAsync($"api/studies/{id}/plots/{kind}.png")).Content.ReadAsByteArrayAsync();
            using var bitmap = SkiaSharp.SKBitmap.Decode(png);
            Assert.Equal((960, 600), (bitmap.Width, bitmap.Height));
        }
        var history = XDocument.Parse(await _client.GetStringAsync($"api/studies/{id}/plots/history.svg"));
        Assert.Contains("History of objective", Texts(history));
        Assert.Contains("best so far (min)", Texts(history));
        // Learning curves of the chosen trials, and of no other.
        var chosen = XDocument.Parse(await _client.GetStringAsync($"api/studies/{id}/plots/intermediate.svg?trials=2,5"));
        Assert.Contains("trial 2", Texts(chosen));
        Assert.Contains("trial 5", Texts(chosen));
        Assert.DoesNotContain("trial 3", Texts(chosen));

        await Json(await _client.GetAsync($"api/studies/{id}/plots/pie.svg"), HttpStatusCode.NotFound);
        await Json(await _client.GetAsync($"api/studies/{id}/plots/contour.svg?params=x,opt"), HttpStatusCode.BadRequest);
        var unknown = await Json(await _client.GetAsync($"api/studies/{id}/plots/intermediate.svg?trials=99"), HttpStatusCode.BadRequest);
        Assert.StartsWith("trial 99 does not exist: the study has ", unknown.GetProperty("detail").GetString());
    }

    private static string Texts(XDocument svg) => string.Join("|", svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()));

    [Fact]
    public async Task Every_category_is_labelled_numeric_axes_have_ticks_and_every_plot_marks_the_best_trial()
    {
        var id = await SubmitAsync(Server.Study(trials: 8).Replace("values: [sgd, adam]", "values: [sgd, adam, rmsprop, lamb]"));
        var best = (await Server.WaitForEndAsync(_client, id)).GetProperty("bestTrial").GetProperty("number").GetInt32();
        async Task<string> Plot(string kind) => Texts(XDocument.Parse(await _client.GetStringAsync($"api/studies/{id}/plots/{kind}.svg")));
        var parallel = await Plot("parallel-coordinates");
        var slice = await Plot("slice");
        foreach (var category in new[] { "sgd", "adam", "rmsprop", "lamb" })
        {
            Assert.Contains(category, parallel.Split('|'));
            Assert.Contains(category, slice.Split('|'));
        }
        // x runs from 0 to 1: ticks between its ends too.
        Assert.Contains("0.5", parallel.Split('|'));
        Assert.Contains("0.25", parallel.Split('|'));
        foreach (var kind in new[] { "history", "parallel-coordinates", "slice", "contour", "intermediate" })
            Assert.Contains($"trial {best}, the best", await Plot(kind));
    }

    [Fact]
    public async Task The_edf_rises_over_the_objectives_values_and_the_timeline_shows_each_trial_its_silo_and_cached_steps()
    {
        // The same study twice: the second takes its steps from the cache the first filled.
        var study = Server.Study(name: "timed", trials: 6);
        await Server.WaitForEndAsync(_client, await SubmitAsync(study));
        var id = await SubmitAsync(study);
        var ended = await Server.WaitForEndAsync(_client, id);
        var best = ended.GetProperty("bestTrial").GetProperty("number").GetInt32();
        var trials = (await Json(await _client.GetAsync($"api/studies/{id}/trials?limit=100"), HttpStatusCode.OK)).GetProperty("trials").EnumerateArray().ToArray();
        async Task<XDocument> SvgAsync(string kind) => XDocument.Parse(await _client.GetStringAsync($"api/studies/{id}/plots/{kind}.svg"));

        var edf = await SvgAsync("edf");
        Assert.Contains("Empirical distribution of objective", Texts(edf));
        Assert.Contains("share of succeeded trials at or below", Texts(edf));
        Assert.Contains($"trial {best}, the best", Texts(edf));
        // The share axis runs from 0 to 1 whatever the values.
        Assert.Contains("0", Texts(edf).Split('|'));
        Assert.Contains("1", Texts(edf).Split('|'));

        var timeline = Texts(await SvgAsync("timeline"));
        Assert.Contains("Timeline of the trials", timeline);
        Assert.Contains("Succeeded", timeline.Split('|'));
        Assert.Contains("a step taken from the cache", timeline.Split('|'));
        Assert.Contains($"trial {best}, the best", timeline);
        var silo = trials[0].GetProperty("silo").GetString()!;
        Assert.Equal(trials.Length, timeline.Split('|').Count(text => text == silo));
    }

    [Fact]
    public async Task The_openapi_document_describes_the_endpoints_and_the_study_file()
    {
        var document = await Json(await _client.GetAsync("openapi/v1.json"), HttpStatusCode.OK);
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/studies", "/api/studies/{id}", "/api/studies/{id}/trials", "/api/studies/{id}/stop", "/api/studies/{id}/plots/{file}",
                     "/api/studies/{id}/trials/{number}", "/api/studies/{id}/trials/{number}/logs", "/api/studies/{id}/events" })
            Assert.True(paths.TryGetProperty(path, out _), $"no {path} in the OpenAPI document");
        var study = document.GetProperty("components").GetProperty("schemas").GetProperty("StudyFile");
        Assert.Equal(["name", "budget", "parameters", "trial"], study.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        // One objective or several: each alternative requires one of the two fields.
        Assert.Equal(["objective", "objectives"], study.GetProperty("oneOf").EnumerateArray().Select(o => o.GetProperty("required")[0].GetString()));
        var properties = study.GetProperty("properties");
        Assert.Equal(4, properties.GetProperty("objectives").GetProperty("maxItems").GetInt32());
        Assert.Equal(["metric"], properties.GetProperty("constraints").GetProperty("items").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains("parameter set to run first", properties.GetProperty("enqueue").GetProperty("items").GetProperty("description").GetString());
        Assert.Equal(["from"], properties.GetProperty("warmStart").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var budget = properties.GetProperty("budget").GetProperty("properties");
        Assert.Equal(1, budget.GetProperty("maxSteps").GetProperty("minimum").GetInt32());
        Assert.Contains("wall-clock", budget.GetProperty("maxTime").GetProperty("description").GetString());
        Assert.Contains("hyperband: minStep, maxStep, reductionFactor",
            properties.GetProperty("earlyStopping").GetProperty("properties").GetProperty("settings").GetProperty("description").GetString());
    }

    [Fact]
    public async Task The_openapi_document_advertises_what_the_endpoints_accept_and_how_keys_are_sent()
    {
        var document = await Json(await _client.GetAsync("openapi/v1.json"), HttpStatusCode.OK);
        // Redocly's no-server-trailing-slash.
        var servers = document.GetProperty("servers").EnumerateArray().Select(server => server.GetProperty("url").GetString()!).ToArray();
        Assert.NotEmpty(servers);
        Assert.All(servers, url => Assert.False(url.EndsWith('/'), url));

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-Api-Key", schemes.GetProperty(ApiDocument.ApiKeyScheme).GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty(ApiDocument.ApiKeyScheme).GetProperty("in").GetString());
        Assert.Equal("bearer", schemes.GetProperty(ApiDocument.BearerScheme).GetProperty("scheme").GetString());

        var advertised = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/")))
            foreach (var operation in path.Value.EnumerateObject())
            {
                var security = operation.Value.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name));
                Assert.Equal([ApiDocument.ApiKeyScheme, ApiDocument.BearerScheme], security.Order());
                if (!operation.Value.TryGetProperty("requestBody", out var body)) continue;
                if (path.Name != "/api/studies")
                {
                    // An external trial's report, tell or heartbeat: a JSON body only.
                    Assert.Equal(["application/json"], body.GetProperty("content").EnumerateObject().Select(t => t.Name));
                    var plain = new StringContent("{}", System.Text.Encoding.UTF8, "text/plain");
                    var url = path.Name.TrimStart('/').Replace("{id}", "0123456789abcdef0123456789abcdef").Replace("{number}", "0");
                    Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _client.PostAsync(url, plain)).StatusCode);
                    continue;
                }
                foreach (var type in body.GetProperty("content").EnumerateObject())
                {
                    Assert.Equal("#/components/schemas/StudyFile", type.Value.GetProperty("schema").GetProperty("$ref").GetString());
                    // Every type advertised is taken: a bad study in it is a 400 about the study, never a 415.
                    var request = new HttpRequestMessage(new HttpMethod(operation.Name), path.Name.TrimStart('/').Replace("{id}", "0123456789abcdef0123456789abcdef"))
                    {
                        Content = new StringContent("name: Bad Name\n", System.Text.Encoding.UTF8, type.Name),
                    };
                    var response = await _client.SendAsync(request);
                    Assert.True(response.StatusCode != HttpStatusCode.UnsupportedMediaType, $"{operation.Name} {path.Name} refused {type.Name}, which the document advertises");
                    advertised.Add($"{operation.Name.ToUpperInvariant()} {path.Name} {type.Name}");
                }
            }
        // And every type the endpoint takes is advertised, and no other.
        Assert.Equal(StudyEndpoints.StudyTypes.Select(t => $"POST /api/studies {t}").Order(), advertised.Order());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await _client.PostAsync("api/studies", new StringContent(Server.Study(), System.Text.Encoding.UTF8, "text/plain"))).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_is_served_by_the_tuner_itself()
    {
        var page = await _client.GetStringAsync("");
        Assert.Contains("/dashboard/dashboard.js", page);
        Assert.Contains("api/studies", await _client.GetStringAsync("dashboard/dashboard.js"));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("dashboard/secrets.txt")).StatusCode);
    }

    [Fact]
    public void A_server_without_keys_refuses_to_listen_beyond_loopback()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            TunerServer.Build(new ServerOptions("http://0.0.0.0:1", _server.Folder, null, _server.Folder, AllowRemote: false), GpuSlots.None));
        Assert.Contains("without API keys", error.Message);
    }

    [Fact]
    public async Task Web_pages_elsewhere_cannot_submit_or_stop_studies()
    {
        // text/plain needs no CORS preflight, so any page could send it: refused.
        await Json(await _client.PostAsync("api/studies", new StringContent(Server.Study(), System.Text.Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        // A changing request from another origin: refused; from this server's own pages: taken.
        var foreign = new HttpRequestMessage(HttpMethod.Post, "api/studies") { Content = Server.Yaml(Server.Study()) };
        foreign.Headers.Add("Origin", "http://evil.example");
        await Json(await _client.SendAsync(foreign), HttpStatusCode.Forbidden);
        var own = new HttpRequestMessage(HttpMethod.Post, "api/studies") { Content = Server.Yaml(Server.Study(trials: 1)) };
        own.Headers.Add("Origin", _server.Url);
        await Json(await _client.SendAsync(own), HttpStatusCode.Created);
        // DNS rebinding: a page's own name pointed at this machine. A keyless server answers loopback names only.
        var rebound = new HttpRequestMessage(HttpMethod.Get, "api/studies");
        rebound.Headers.Host = "evil.example";
        await Json(await _client.SendAsync(rebound), HttpStatusCode.BadRequest);
    }

    [Fact]
    public void A_keys_file_that_gives_one_key_to_two_namespaces_is_refused()
    {
        var keys = Path.Combine(_server.Folder, "twice.json");
        var hash = Namespaces.Hash("tk_shared");
        File.WriteAllText(keys, $$$$"""{"namespaces": {"a": {"keys": ["{{{{hash}}}}"]}, "b": {"keys": ["{{{{hash}}}}"]}}}""");
        Assert.Contains("both namespaces 'a' and 'b'", Assert.Throws<InvalidDataException>(() => Namespaces.Load(keys)).Message);
    }
}
