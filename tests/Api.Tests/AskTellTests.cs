using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tuning.Api.Tests;

/// <summary>External studies over HTTP: trials asked for, reported and told by clients, against a real <c>tuner serve</c>.</summary>
public sealed class AskTellTests : OnOneServer
{
    /// <summary>A study run by clients: x and k from a small discrete space (18 points).</summary>
    public static string ExternalStudy(string name = "external", int trials = 4, string algorithm = "random", string heartbeat = "5m",
        int maxRetries = 2, string earlyStopping = "", string budget = "") => $$"""
        name: {{name}}
        objective: {metric: loss, goal: minimize}
        algorithm: {name: {{algorithm}}, seed: 5}
        budget: {maxTrials: {{trials}}, maxRetries: {{maxRetries}}{{budget}}}
        {{earlyStopping}}
        parameters:
          - {name: x, type: int, min: 0, max: 5}
          - {name: k, type: categorical, values: [a, b, c]}
        trial:
          external: {heartbeatTimeout: {{heartbeat}}}
        """;

    private static async Task<string> SubmitAsync(HttpClient client, string yaml) =>
        (await Json(await client.PostAsync("api/studies", Server.Yaml(yaml)), HttpStatusCode.Created)).GetProperty("id").GetString()!;

    private static Task<HttpResponseMessage> AskAsync(HttpClient client, string id) => client.PostAsync($"api/studies/{id}/trials", null);

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string id, int number, string verb, object body) =>
        client.PostAsJsonAsync($"api/studies/{id}/trials/{number}/{verb}", body);

    private static Task<HttpResponseMessage> TellAsync(HttpClient client, string id, JsonElement trial, double loss) =>
        PostAsync(client, id, trial.GetProperty("number").GetInt32(), "tell",
            new { attempt = trial.GetProperty("attempt").GetString(), metrics = new Dictionary<string, double> { ["loss"] = loss } });

    [Fact]
    public async Task A_study_runs_entirely_by_ask_report_and_tell()
    {
        var id = await SubmitAsync(_client, ExternalStudy(trials: 3));
        for (var n = 0; n < 3; n++)
        {
            var asked = await AskAsync(_client, id);
            var trial = await Json(asked, HttpStatusCode.Created);
            Assert.Equal(n, trial.GetProperty("number").GetInt32());
            Assert.Equal($"/api/studies/{id}/trials/{n}", asked.Headers.Location!.OriginalString);
            Assert.Equal(JsonValueKind.Number, trial.GetProperty("parameters").GetProperty("x").ValueKind);
            Assert.Equal(JsonValueKind.String, trial.GetProperty("parameters").GetProperty("k").ValueKind);
            var attempt = trial.GetProperty("attempt").GetString();
            var report = await Json(await PostAsync(_client, id, n, "report", new { attempt, step = 1, metrics = new { loss = 9.0 } }), HttpStatusCode.OK);
            Assert.False(report.GetProperty("stop").GetBoolean());
            await Json(await PostAsync(_client, id, n, "heartbeat", new { attempt }), HttpStatusCode.OK);
            var told = await Json(await TellAsync(_client, id, trial, n), HttpStatusCode.OK);
            Assert.Equal("Succeeded", told.GetProperty("status").GetString());
            Assert.Equal(9.0, told.GetProperty("intermediate").GetProperty("loss")[0][1].GetDouble());
            // A client retrying its tell is answered as before; another outcome is refused.
            await Json(await TellAsync(_client, id, trial, n), HttpStatusCode.OK);
            await Json(await TellAsync(_client, id, trial, n + 0.5), HttpStatusCode.Conflict);
            await Json(await PostAsync(_client, id, n, "report", new { attempt, step = 2, metrics = new { loss = 1.0 } }), HttpStatusCode.Conflict);
        }
        var end = await Server.WaitForEndAsync(_client, id, TimeSpan.FromSeconds(10));
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());
        Assert.Equal(3, end.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, end.GetProperty("bestTrial").GetProperty("number").GetInt32());
        var spent = await Json(await AskAsync(_client, id), HttpStatusCode.Conflict);
        Assert.Contains("ended", spent.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_report_is_answered_by_the_early_stopping_rule()
    {
        var id = await SubmitAsync(_client, ExternalStudy(trials: 3, earlyStopping: "earlyStopping: {name: median, settings: {minTrials: 2, startStep: 1}}"));
        for (var n = 0; n < 2; n++)
        {
            var good = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
            var attempt = good.GetProperty("attempt").GetString();
            await Json(await PostAsync(_client, id, n, "report", new { attempt, step = 1, metrics = new { loss = 1.0 } }), HttpStatusCode.OK);
            await Json(await TellAsync(_client, id, good, 1), HttpStatusCode.OK);
        }
        var bad = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        var answer = await Json(await PostAsync(_client, id, 2, "report",
            new { attempt = bad.GetProperty("attempt").GetString(), step = 1, metrics = new { loss = 100.0 } }), HttpStatusCode.OK);
        Assert.True(answer.GetProperty("stop").GetBoolean());
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("reason").GetString()));
        // Stopped: the trial has ended, at its last value, and the study with it.
        await Json(await TellAsync(_client, id, bad, 100), HttpStatusCode.Conflict);
        var end = await Server.WaitForEndAsync(_client, id, TimeSpan.FromSeconds(10));
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());
        Assert.Equal(1, end.GetProperty("earlyStopped").GetInt32());
    }

    [Fact]
    public async Task The_report_that_spends_max_steps_ends_the_study_and_tells_its_trial_to_stop()
    {
        var id = await SubmitAsync(_client, ExternalStudy(trials: 10, budget: ", maxSteps: 3"));
        var first = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        var second = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        for (var step = 1; step <= 2; step++)
        {
            var going = await Json(await PostAsync(_client, id, 0, "report", new { attempt = first.GetProperty("attempt").GetString(), step, metrics = new { loss = 1.0 } }), HttpStatusCode.OK);
            Assert.False(going.GetProperty("stop").GetBoolean());
        }
        await Json(await TellAsync(_client, id, first, 1), HttpStatusCode.OK);
        var last = await Json(await PostAsync(_client, id, 1, "report",
            new { attempt = second.GetProperty("attempt").GetString(), step = 1, metrics = new { loss = 2.0 } }), HttpStatusCode.OK);
        Assert.True(last.GetProperty("stop").GetBoolean());
        Assert.Equal("the study ended: stopped by the budget: 3 steps reported, budget.maxSteps is 3", last.GetProperty("reason").GetString());
        // Ended by that answer, not at a later tick: the next ask is refused at once, and no step past the budget was taken.
        var refused = await Json(await AskAsync(_client, id), HttpStatusCode.Conflict);
        Assert.Contains("ended", refused.GetProperty("detail").GetString());
        var study = await Json(await _client.GetAsync($"api/studies/{id}"), HttpStatusCode.OK);
        Assert.Equal("Succeeded", study.GetProperty("status").GetString());
        Assert.Equal(3, study.GetProperty("resources").GetProperty("steps").GetInt64());
    }

    [Fact]
    public async Task Every_refusal_is_a_clear_4xx()
    {
        var id = await SubmitAsync(_client, ExternalStudy(trials: 1));
        var trial = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        var attempt = trial.GetProperty("attempt").GetString();
        // The budget of one trial is handed out: no second ask while it runs.
        Assert.Contains("budget is spent", (await Json(await AskAsync(_client, id), HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        await Json(await PostAsync(_client, id, 0, "tell", new { attempt = "nope", metrics = new { loss = 1.0 } }), HttpStatusCode.Conflict);
        await Json(await PostAsync(_client, id, 7, "tell", new { attempt, metrics = new { loss = 1.0 } }), HttpStatusCode.NotFound);
        await Json(await PostAsync(_client, id, 0, "tell", new { attempt, metrics = new { accuracy = 1.0 } }), HttpStatusCode.BadRequest);
        await Json(await PostAsync(_client, id, 0, "tell", new { attempt }), HttpStatusCode.BadRequest);
        await Json(await PostAsync(_client, id, 0, "heartbeat", new { }), HttpStatusCode.BadRequest);
        await Json(await PostAsync(_client, id, 0, "report", new { attempt, step = 1 }), HttpStatusCode.BadRequest);
        // A trial keeps at most 100 metric names: a flood of them is refused, however it is spread over reports.
        await Json(await PostAsync(_client, id, 0, "report", new { attempt, step = 1, metrics = Enumerable.Range(0, 60).ToDictionary(i => $"m{i}", i => 1.0) }), HttpStatusCode.OK);
        var flood = await Json(await PostAsync(_client, id, 0, "report", new { attempt, step = 2, metrics = Enumerable.Range(60, 60).ToDictionary(i => $"m{i}", i => 1.0) }), HttpStatusCode.BadRequest);
        Assert.Contains("at most 100 metric names", flood.GetProperty("detail").GetString());
        // Metrics are named as in a study file and finite ("NaN" is read as a number, then refused).
        var nan = new StringContent($$$"""{"attempt": "{{{attempt}}}", "step": 1, "metrics": {"loss": "NaN"}}""", System.Text.Encoding.UTF8, "application/json");
        Assert.Contains("not a finite number", (await Json(await _client.PostAsync($"api/studies/{id}/trials/0/report", nan), HttpStatusCode.BadRequest)).GetProperty("detail").GetString());
        await Json(await PostAsync(_client, id, 0, "report", new { attempt, step = 1, metrics = new Dictionary<string, double> { ["\u202e../x"] = 1 } }), HttpStatusCode.BadRequest);
        await Json(await _client.PostAsync($"api/studies/{id}/trials/0/tell", new StringContent("{", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await Json(await AskAsync(_client, "0123456789abcdef0123456789abcdef"), HttpStatusCode.NotFound);
        // A study that runs its own trials takes no ask.
        var own = await SubmitAsync(_client, Server.Study(trials: 1));
        Assert.Contains("external", (await Json(await AskAsync(_client, own), HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        // A failed trial is told with its reason.
        var failed = await Json(await PostAsync(_client, id, 0, "tell", new { attempt, failed = "out of memory" }), HttpStatusCode.OK);
        Assert.Equal("out of memory", failed.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Eight_concurrent_askers_get_distinct_trials_and_lose_no_tell()
    {
        // Grid search hands out each of the 18 points once, pending ones included. (Bayesian's initial design, a Sobol
        // point per trial number, can repeat a point of so small a discrete space while no tell has come back yet.)
        const int trials = 12;
        var id = await SubmitAsync(_client, ExternalStudy(trials: trials, algorithm: "grid"));
        var asked = new ConcurrentBag<JsonElement>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            using var client = _server.Client();
            while (true)
            {
                var response = await AskAsync(client, id);
                if (response.StatusCode == HttpStatusCode.Conflict) return;
                var trial = await Json(response, HttpStatusCode.Created);
                asked.Add(trial);
                var x = trial.GetProperty("parameters").GetProperty("x").GetDouble();
                await Json(await TellAsync(client, id, trial, x), HttpStatusCode.OK);
            }
        })));
        Assert.Equal(Enumerable.Range(0, trials), asked.Select(t => t.GetProperty("number").GetInt32()).Order());
        Assert.Equal(trials, asked.Select(t => t.GetProperty("parameters").GetRawText()).Distinct().Count());
        var end = await Server.WaitForEndAsync(_client, id, TimeSpan.FromSeconds(10));
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());
        Assert.Equal(trials, end.GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task A_silent_trial_is_handed_out_again_and_its_old_attempt_refused_until_retries_run_out()
    {
        var id = await SubmitAsync(_client, ExternalStudy(trials: 2, heartbeat: "1s", maxRetries: 1));
        var first = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        await Task.Delay(1500);
        var again = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        Assert.Equal(0, again.GetProperty("number").GetInt32());
        Assert.Equal(first.GetProperty("parameters").GetRawText(), again.GetProperty("parameters").GetRawText());
        Assert.NotEqual(first.GetProperty("attempt").GetString(), again.GetProperty("attempt").GetString());
        var stale = await Json(await TellAsync(_client, id, first, 1), HttpStatusCode.Conflict);
        Assert.Contains("not the current one", stale.GetProperty("detail").GetString());
        await Json(await PostAsync(_client, id, 0, "heartbeat", new { attempt = first.GetProperty("attempt").GetString() }), HttpStatusCode.Conflict);

        // Heartbeats keep the new attempt's lease: trial 1 is asked, trial 0 is not handed out again.
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(400);
            await Json(await PostAsync(_client, id, 0, "heartbeat", new { attempt = again.GetProperty("attempt").GetString() }), HttpStatusCode.OK);
        }
        var second = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        Assert.Equal(1, second.GetProperty("number").GetInt32());

        // Silent again past budget.maxRetries (1): trial 0 fails, its retries recorded, and the study goes on.
        await Task.Delay(1500);
        await Json(await TellAsync(_client, id, second, 0.5), HttpStatusCode.OK);
        var spent = await Json(await AskAsync(_client, id), HttpStatusCode.Conflict);
        Assert.Contains("ended", spent.GetProperty("detail").GetString());
        var page = await Json(await _client.GetAsync($"api/studies/{id}/trials"), HttpStatusCode.OK);
        var zero = page.GetProperty("trials")[0];
        Assert.Equal("Failed", zero.GetProperty("status").GetString());
        Assert.Equal(2, zero.GetProperty("retries").GetArrayLength());
        Assert.Contains("no report or heartbeat", zero.GetProperty("retries")[0].GetString());
        Assert.Equal("Succeeded", (await Server.WaitForEndAsync(_client, id, TimeSpan.FromSeconds(10))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_tell_after_a_server_restart_is_taken_for_a_trial_asked_before()
    {
        var id = await SubmitAsync(_client, ExternalStudy(trials: 1));
        var trial = await Json(await AskAsync(_client, id), HttpStatusCode.Created);
        _client.Dispose();
        await _server.DisposeAsync();

        _server = await Server.StartAsync(_server.Folder);
        _client = _server.Client();
        var told = await Json(await TellAsync(_client, id, trial, 0.25), HttpStatusCode.OK);
        Assert.Equal(0.25, told.GetProperty("metrics").GetProperty("loss").GetDouble());
        var end = await Server.WaitForEndAsync(_client, id, TimeSpan.FromSeconds(10));
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());
    }
}
