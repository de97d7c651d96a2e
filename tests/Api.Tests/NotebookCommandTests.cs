using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuning.Tests.Shared;

namespace Tuning.Api.Tests;

/// <summary>Kale-tagged notebooks run by <c>tuner run</c> for real: nbclient, ipykernel and dill under Debian's python3.</summary>
public sealed class NotebookCommandTests() : InTemporaryFolder("tuning-notebook-")
{
    /// <summary>experiments/notebook as the README runs it: scikit-learn's digits, load and preprocess once per study.</summary>
    [Fact]
    public async Task The_digits_notebook_runs_as_it_is_loads_once_per_study_and_keeps_each_trials_executed_notebook()
    {
        var notebook = Path.Combine(Tuner.RepositoryRoot, "experiments", "notebook", "digits.ipynb");
        var clock = Stopwatch.StartNew();
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", notebook, "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Console.WriteLine($"experiments/notebook: {clock.Elapsed.TotalSeconds:F1} s");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var trials = json.RootElement.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(6, trials.Length);
        Assert.All(trials, t => Assert.Equal("Succeeded", t.GetProperty("status").GetString()));
        // The steps that read no searched parameter ran once in the whole study; train and evaluate in every trial.
        int Ran(string step) => trials.Count(t => t.GetProperty("steps").EnumerateArray().Any(s => s.GetProperty("name").GetString() == step && !s.GetProperty("cached").GetBoolean()));
        Assert.Equal((1, 1, 6, 6), (Ran("load"), Ran("preprocess"), Ran("train"), Ran("evaluate")));
        Assert.True(json.RootElement.GetProperty("bestTrial").GetProperty("metrics").GetProperty("accuracy").GetDouble() > 0.9);

        // Every trial's executed notebook, cached steps included, with the outputs its cells printed.
        foreach (var trial in trials)
        {
            var executed = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "out", "trials", $"{trial.GetProperty("number").GetInt32()}.ipynb")))!;
            var text = executed.ToJsonString();
            foreach (var step in new[] { "load", "preprocess", "train", "evaluate", "pipeline_metrics" }) Assert.Contains($"## Step {step}", text);
            Assert.Contains("loaded 1797 images of 64 pixels", text);
            Assert.Contains("train_accuracy=", text);
        }
    }

    [Fact]
    public async Task A_failing_step_fails_its_trial_naming_the_variable_and_its_notebook_keeps_the_traceback()
    {
        var output = await RunFailingAsync("fails", "numbers = (i for i in range(3))  # a generator: neither dill nor pickle saves one",
            "accuracy = sum(numbers) * lr", "accuracy");
        Assert.Contains("variable numbers of step make cannot be saved", output);
        var executed = File.ReadAllText(Path.Combine(Root, "out", "trials", "0.ipynb"));
        Assert.Contains("\"output_type\": \"error\"", executed);
        Assert.Contains("RuntimeError", executed);
    }

    [Fact]
    public async Task A_variable_that_fails_to_load_names_the_cell_the_runner_added()
    {
        // An assert without a message in unpickling: the error has no text, and the cell that raised it is not one of
        // the notebook's, so only the cell's part says where the step failed.
        var output = await RunFailingAsync("loads", "class Fragile:\n    def __setstate__(self, state):\n        assert False\nthing = Fragile()\nthing.size = 3",
            "total = thing.size * lr", "total");
        Assert.Contains("the cell that loads the variables of the steps before it of step use raised AssertionError", output);
    }

    [Fact]
    public async Task Tuner_notebook_replays_a_failed_step_from_the_state_it_started_from()
    {
        var output = await RunFailingAsync("raises", "numbers = [1, 2, 3]", "total = sum(numbers) * lr\nraise ValueError(f'total={total}')",
            "total");
        Assert.Contains("cell 2 (total = sum(numbers) * lr) of step use raised ValueError: total=", output);
        var failure = output[output.IndexOf("total=", StringComparison.Ordinal)..].Split('\n')[0].Trim();

        var (exit, replayed, error) = await Tuner.RunAsync(Root, "notebook", "raises", "0", "--step", "use", "--out", "replay.ipynb", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{replayed}\n{error}");
        // Run in Jupyter's way, the replay loads what make saved and this trial's lr, and fails as the trial did.
        var run = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        run.ArgumentList.Add("-c");
        run.ArgumentList.Add("import nbformat, nbclient; nb = nbformat.read('replay.ipynb', 4); nbclient.NotebookClient(nb, allow_errors=True).execute(); " +
                             "print([o['evalue'] for c in nb.cells for o in c.get('outputs', []) if o['output_type'] == 'error'])");
        using var python = Process.Start(run)!;
        var printed = await python.StandardOutput.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, await python.StandardError.ReadToEndAsync());
        Assert.Equal($"['{failure}']", printed.Trim());
    }

    [Fact]
    public async Task A_server_takes_a_notebook_and_serves_each_trials_executed_notebook()
    {
        var notebook = TaggedNotebook.Of(
            [
                ("pipeline-parameters", "lr = 0.1"),
                ("step:make", "numbers = [1, 2, 3]\nprint('made', numbers)"),
                ("step:use prev:make", "total = sum(numbers) * lr"),
                ("pipeline-metrics", "total"),
            ],
            """
            {"name": "posted-notebook", "objective": {"metric": "total", "goal": "maximize"}, "budget": {"maxTrials": 2},
             "parameters": [{"name": "lr", "type": "double", "min": 0.01, "max": 1}]}
            """);
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var created = await client.PostAsync("api/studies", new StringContent(notebook, System.Text.Encoding.UTF8, "application/x-ipynb+json"));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == System.Net.HttpStatusCode.Created, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        var end = await Server.WaitForEndAsync(client, id);
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());

        var served = await client.GetAsync($"api/studies/{id}/trials/1/notebook");
        Assert.Equal("application/x-ipynb+json", served.Content.Headers.ContentType!.MediaType);
        var text = await served.Content.ReadAsStringAsync();
        Assert.Contains("## Step make", text);
        Assert.Contains("made [1, 2, 3]", text);
        Assert.Contains("## Step use", text);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync($"api/studies/{id}/trials/7/notebook")).StatusCode);
        Directory.Delete(server.Folder, recursive: true);
    }

    /// <summary>
    /// A one-trial study of a notebook with two steps, make then use (which reads what make made), whose trial fails:
    /// what <c>tuner run</c> printed.
    /// </summary>
    private async Task<string> RunFailingAsync(string name, string make, string use, string metric)
    {
        File.WriteAllText(Path.Combine(Root, name + ".ipynb"), TaggedNotebook.Of(
            [
                ("pipeline-parameters", "lr = 0.1"),
                ("step:make", make),
                ("step:use prev:make", use),
                ("pipeline-metrics", metric),
            ],
            $$"""
            {"name": "{{name}}", "objective": {"metric": "{{metric}}", "goal": "maximize"}, "budget": {"maxTrials": 1, "maxFailedTrials": 0},
             "parameters": [{"name": "lr", "type": "double", "min": 0.01, "max": 1}]}
            """));
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", name + ".ipynb", "--out", "out", "--data", "data");
        Assert.True(exit == 1, $"exit {exit}\n{output}\n{error}");
        return output;
    }
}
