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
        File.WriteAllText(Path.Combine(Root, "fails.ipynb"), TaggedNotebook.Of(
            [
                ("pipeline-parameters", "lr = 0.1"),
                ("step:make", "numbers = (i for i in range(3))  # a generator: neither dill nor pickle saves one"),
                ("step:use prev:make", "accuracy = sum(numbers) * lr"),
                ("pipeline-metrics", "accuracy"),
            ],
            """
            {"name": "fails", "objective": {"metric": "accuracy", "goal": "maximize"}, "budget": {"maxTrials": 1, "maxFailedTrials": 0},
             "parameters": [{"name": "lr", "type": "double", "min": 0.01, "max": 1}]}
            """));
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "fails.ipynb", "--out", "out", "--data", "data");
        Assert.True(exit == 1, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("variable numbers of step make cannot be saved", output);
        var executed = File.ReadAllText(Path.Combine(Root, "out", "trials", "0.ipynb"));
        Assert.Contains("\"output_type\": \"error\"", executed);
        Assert.Contains("RuntimeError", executed);
    }
}
