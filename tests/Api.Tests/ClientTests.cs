using System.Text.Json;

namespace Tuning.Api.Tests;

/// <summary>The client verbs of the real <c>tuner</c> executable against a real server, with their exit codes.</summary>
public sealed class ClientTests
{
    [Fact]
    public async Task The_client_verbs_submit_follow_page_plot_stop_and_delete()
    {
        await using var server = await Server.StartAsync();
        var work = server.Folder;
        File.WriteAllText(Path.Combine(work, "study.yaml"), Server.Study(trials: 5));
        string[] At(params string[] args) => [.. args, "--server", server.Url];

        var (exit, output, error) = await Tuner.RunAsync(work, At("submit", "study.yaml", "--wait"));
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("Submitted study served", output);
        Assert.Contains("Succeeded", output);

        (exit, output, _) = await Tuner.RunAsync(work, At("list", "--json"));
        Assert.Equal(0, exit);
        var id = JsonDocument.Parse(output).RootElement[0].GetProperty("id").GetString()!;

        (exit, output, _) = await Tuner.RunAsync(work, At("status", id));
        Assert.Equal(0, exit);
        Assert.Contains("5/5 done", output);
        (exit, output, _) = await Tuner.RunAsync(work, At("trials", id, "--sort", "value", "--limit", "2"));
        Assert.Equal(0, exit);
        Assert.Contains("2 of 5; next page: --after", output);
        (exit, output, _) = await Tuner.RunAsync(work, At("plot", id, "history", "--out", "h.svg"));
        Assert.Equal(0, exit);
        Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(work, "h.svg")));

        // An ended study cannot be stopped (409): exit 1, with the server's reason.
        (exit, _, error) = await Tuner.RunAsync(work, At("stop", id));
        Assert.Equal(1, exit);
        Assert.Contains("409", error);
        (exit, _, _) = await Tuner.RunAsync(work, At("delete", id));
        Assert.Equal(0, exit);
        (exit, _, error) = await Tuner.RunAsync(work, At("status", id));
        Assert.Equal(1, exit);
        Assert.Contains("404", error);
    }

    [Fact]
    public async Task A_shell_script_runs_an_external_study_with_ask_and_tell()
    {
        await using var server = await Server.StartAsync();
        var work = server.Folder;
        File.WriteAllText(Path.Combine(work, "external.yaml"), AskTellTests.ExternalStudy(trials: 2));
        string[] At(params string[] args) => [.. args, "--server", server.Url];
        var (exit, output, error) = await Tuner.RunAsync(work, At("submit", "external.yaml", "--json"));
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        var id = JsonDocument.Parse(output).RootElement.GetProperty("id").GetString()!;

        for (var n = 0; n < 2; n++)
        {
            (exit, output, error) = await Tuner.RunAsync(work, At("ask", id));
            Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
            var trial = JsonDocument.Parse(output).RootElement;
            Assert.Equal(n, trial.GetProperty("number").GetInt32());
            var attempt = trial.GetProperty("attempt").GetString()!;
            string[] outcome = n == 0 ? ["--metric", "loss=0.1", "--metric", "runtime=3"] : ["--failed", "diverged"];
            (exit, output, error) = await Tuner.RunAsync(work, At(["tell", id, $"{n}", "--attempt", attempt, .. outcome]));
            Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
            Assert.Contains(n == 0 ? "Succeeded" : "Failed", output);
        }
        // tuner run has no clients to ask: it refuses such a study instead of waiting for ever.
        (exit, _, error) = await Tuner.RunAsync(work, "run", "external.yaml", "--data", "run-data");
        Assert.Equal(2, exit);
        Assert.Contains("tuner serve", error);
        // The budget is spent: a clear refusal, exit 1; a tell without an outcome is exit 2.
        (exit, _, error) = await Tuner.RunAsync(work, At("ask", id));
        Assert.Equal(1, exit);
        Assert.Contains("409", error);
        (exit, _, _) = await Tuner.RunAsync(work, At("tell", id, "0", "--attempt", "x", "--metric", "loss"));
        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task Trials_print_categories_with_control_and_bidirectional_characters_escaped()
    {
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var yaml = Server.Study(trials: 2).Replace("values: [sgd, adam]", "values: [\"line\\nbreak\", \"right\\u202Eleft\"]");
        var created = await client.PostAsync("api/studies", Server.Yaml(yaml));
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await Server.WaitForEndAsync(client, id);

        var (exit, output, error) = await Tuner.RunAsync(server.Folder, "trials", id, "--server", server.Url);
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.DoesNotContain('\u202e', output);
        // One line per trial and the count: no value broke a line.
        Assert.Equal(3, output.TrimEnd('\n').Split('\n').Length);
        Assert.Matches(@"opt=(line\\u000abreak|right\\u202eleft)", output);
    }

    [Fact]
    public async Task An_invalid_study_is_exit_2_naming_each_field_and_no_server_is_exit_3()
    {
        await using var server = await Server.StartAsync();
        File.WriteAllText(Path.Combine(server.Folder, "bad.yaml"), "name: bad\nobjective: {metric: m, goal: up}\n");
        var (exit, _, error) = await Tuner.RunAsync(server.Folder, "submit", "bad.yaml", "--server", server.Url);
        Assert.Equal(2, exit);
        Assert.Contains("objective.goal (line 2, column 30)", error);
        Assert.Contains("budget", error);

        (exit, _, error) = await Tuner.RunAsync(server.Folder, "list", "--server", "http://127.0.0.1:9");
        Assert.Equal(3, exit);
        Assert.Contains("cannot reach the tuner server", error);
        (exit, _, error) = await Tuner.RunAsync(server.Folder, "plot", "0123", "pie", "--server", server.Url);
        Assert.Equal(2, exit);
        Assert.Contains("no plot 'pie'", error);
        (exit, _, _) = await Tuner.RunAsync(server.Folder, "list", "--server", "ftp://127.0.0.1");
        Assert.Equal(2, exit);
    }
}
