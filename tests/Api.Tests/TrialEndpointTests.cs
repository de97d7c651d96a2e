using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Tuning.Api.Tests;

/// <summary>One trial over HTTP: its record, its steps' logs, and what a trial that reports too much leaves of it.</summary>
public sealed class TrialEndpointTests : OnOneServer
{
    /// <summary>Runs to its end a study of x in [0, 1] whose trials run <paramref name="steps"/> (the YAML under <c>steps:</c>).</summary>
    private async Task<string> RunAsync(string name, int parallel, string steps)
    {
        var yaml = $$"""
            name: {{name}}
            objective: {metric: objective, goal: minimize}
            algorithm: {name: random, seed: 3}
            budget: {maxTrials: 2, parallelTrials: {{parallel}}}
            parameters:
              - {name: x, type: double, min: 0, max: 1}
            trial:
              steps:

            """ + steps;
        var id = (await Json(await _client.PostAsync("api/studies", Server.Yaml(yaml)), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        Assert.Equal("Succeeded", (await Server.WaitForEndAsync(_client, id)).GetProperty("status").GetString());
        return id;
    }

    [Fact]
    public async Task A_trial_printing_thousands_of_metric_names_keeps_a_hundred_and_says_so_and_the_lists_stay_small()
    {
        var id = await RunAsync("flood", parallel: 2, """
                - name: s
                  command: [sh, -c, "awk 'BEGIN { for (i = 0; i < 5000; i++) print \"step=\" i, \"m\" i \"=\" i }'; echo objective=${params.x}"]
            """);
        var list = await _client.GetStringAsync("api/studies");
        var trials = await _client.GetStringAsync($"api/studies/{id}/trials");
        var study = await _client.GetStringAsync($"api/studies/{id}");
        Console.WriteLine($"metric flood of 5,000 names: /api/studies {list.Length} bytes, the study {study.Length}, its trials page {trials.Length}");
        Assert.True(list.Length < 16_000, $"/api/studies is {list.Length} bytes");
        Assert.True(study.Length < 16_000, $"the study is {study.Length} bytes");
        var trial = await Json(await _client.GetAsync($"api/studies/{id}/trials/0"), HttpStatusCode.OK);
        // step and m0..m98 are the hundred names kept; the objective, printed last, is kept past them.
        Assert.Equal(101, trial.GetProperty("metrics").EnumerateObject().Count());
        Assert.True(trial.GetProperty("metrics").TryGetProperty("objective", out _));
        Assert.Equal("only the first 100 metric names are kept: 4,901 values were reported under further names (m99, m100, m101, m102, m103, …) and not kept",
            trial.GetProperty("note").GetString());
    }

    [Fact]
    public async Task A_steps_log_is_served_whole_by_range_or_by_its_last_lines_and_a_cached_steps_from_its_entry()
    {
        // One trial at a time: the second takes prepare from the cache.
        var id = await RunAsync("logs", parallel: 1, """
                - name: prepare
                  command: [sh, -c, "echo prepared once"]
                - name: train
                  dependsOn: [prepare]
                  command: [sh, -c, "for i in $(seq 1 50); do echo line $i; done; echo careful >&2; echo objective=${params.x}"]
            """);
        var whole = await _client.GetAsync($"api/studies/{id}/trials/1/logs?step=train");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("text/plain", whole.Content.Headers.ContentType!.MediaType);
        var text = await whole.Content.ReadAsStringAsync();
        Assert.StartsWith("line 1\nline 2\n", text);
        Assert.Contains("line 50\nobjective=", text);

        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(51, lines.Length);
        Assert.Equal(string.Join("\n", lines[^3..]) + "\n", await _client.GetStringAsync($"api/studies/{id}/trials/1/logs?step=train&tail=3"));
        Assert.Equal(text, await _client.GetStringAsync($"api/studies/{id}/trials/1/logs?step=train&tail=1000"));
        Assert.Equal("careful\n", await _client.GetStringAsync($"api/studies/{id}/trials/1/logs?step=train&stream=stderr"));

        var range = new HttpRequestMessage(HttpMethod.Get, $"api/studies/{id}/trials/1/logs?step=train") { Headers = { Range = new RangeHeaderValue(7, 13) } };
        var part = await _client.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("line 2\n", await part.Content.ReadAsStringAsync());

        // Trial 1 took prepare from the cache: its log is the entry's, the run of trial 0 that made it.
        var cached = await _client.GetAsync($"api/studies/{id}/trials/1/logs?step=prepare");
        Assert.Equal("prepared once\n", await cached.Content.ReadAsStringAsync());
        Assert.Equal("true", cached.Headers.GetValues("X-Tuner-Log-Cached").Single());
        var trial = await Json(await _client.GetAsync($"api/studies/{id}/trials/1"), HttpStatusCode.OK);
        Assert.True(trial.GetProperty("steps")[0].GetProperty("cached").GetBoolean());

        var unknownStep = await Json(await _client.GetAsync($"api/studies/{id}/trials/1/logs?step=nope"), HttpStatusCode.NotFound);
        Assert.Contains("its steps: prepare, train", unknownStep.GetProperty("detail").GetString());
        await Json(await _client.GetAsync($"api/studies/{id}/trials/1/logs"), HttpStatusCode.NotFound);
        await Json(await _client.GetAsync($"api/studies/{id}/trials/7/logs?step=train"), HttpStatusCode.NotFound);
        await Json(await _client.GetAsync($"api/studies/{id}/trials/7"), HttpStatusCode.NotFound);
        await Json(await _client.GetAsync($"api/studies/0123456789abcdef0123456789abcdef/trials/0/logs?step=train"), HttpStatusCode.NotFound);
        await Json(await _client.GetAsync($"api/studies/{id}/trials/1/logs?step=train&tail=0"), HttpStatusCode.BadRequest);
        await Json(await _client.GetAsync($"api/studies/{id}/trials/1/logs?step=train&stream=env"), HttpStatusCode.BadRequest);
    }
}
