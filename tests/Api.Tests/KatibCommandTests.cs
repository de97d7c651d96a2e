using System.Net;
using System.Text.Json;
using Tuning.Tests.Shared;

namespace Tuning.Api.Tests;

/// <summary>experiments/katib, a Katib Experiment, run and converted as the README says: the real executable, real trial processes.</summary>
public sealed class KatibCommandTests() : InTemporaryFolder("tuning-katib-")
{
    private static readonly string Experiment = Path.Combine(Tuner.RepositoryRoot, "experiments", "katib", "experiment.yaml");

    [Fact]
    public async Task The_katib_experiment_runs_as_it_is_and_each_trial_reports_its_own_branin_value()
    {
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", Experiment, "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "out", "study.json")));
        var root = json.RootElement;
        Assert.Equal("katib-branin", root.GetProperty("name").GetString());
        Assert.Equal("Succeeded", root.GetProperty("status").GetString());
        var trials = root.GetProperty("trials").EnumerateArray().ToArray();
        Assert.Equal(20, trials.Length);
        foreach (var trial in trials.Where(t => t.GetProperty("status").GetString() == "Succeeded"))
        {
            // The Katib names reach the script through ${trialParameters.X} -> reference -> the parameter, '-' and all.
            var parameters = trial.GetProperty("parameters");
            var (x1, x2) = (parameters.GetProperty("x1").GetDouble(), parameters.GetProperty("x2").GetDouble());
            Assert.InRange(parameters.GetProperty("noise-evals").GetInt32(), 1, 3);
            var branin = Math.Pow(x2 - 5.1 / (4 * Math.PI * Math.PI) * x1 * x1 + 5 / Math.PI * x1 - 6, 2) + 10 * (1 - 1 / (8 * Math.PI)) * Math.Cos(x1) + 10;
            Assert.Equal(branin, trial.GetProperty("metrics").GetProperty("loss").GetDouble(), branin * 1e-6);
            Assert.Equal("training-container", trial.GetProperty("steps")[0].GetProperty("name").GetString());
        }
    }

    [Fact]
    public async Task Convert_prints_the_study_file_the_experiment_amounts_to_which_runs_as_a_study_file()
    {
        var (exit, output, error) = await Tuner.RunAsync(Root, "convert", Experiment);
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("name: katib-branin", output);
        Assert.Contains("--x1=${params.x1}", output);
        Assert.Contains("--noise-evals=${params.noise-evals}", output);
        Assert.DoesNotContain("trialParameters", output);

        // Saved beside the script, it is an ordinary study file.
        File.Copy(Path.Combine(Path.GetDirectoryName(Experiment)!, "branin.py"), Path.Combine(Root, "branin.py"));
        File.WriteAllText(Path.Combine(Root, "study.yaml"), output.Replace("maxTrials: 20", "maxTrials: 3"));
        (exit, output, error) = await Tuner.RunAsync(Root, "run", "study.yaml", "--out", "out", "--data", "data");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("Succeeded: 3/3 done", output);
    }

    [Fact]
    public async Task What_cannot_run_here_is_exit_2_naming_the_katib_field_and_line()
    {
        File.WriteAllText(Path.Combine(Root, "pbt.yaml"), File.ReadAllText(Experiment).Replace("algorithmName: multivariate-tpe", "algorithmName: pbt"));
        var (exit, output, error) = await Tuner.RunAsync(Root, "run", "pbt.yaml", "--data", "data");
        Assert.Equal(2, exit);
        Assert.Contains("spec.algorithm.algorithmName (line 15, column 20): pbt is not supported; supported: random, grid, bayesianoptimization", error);
        Assert.Empty(output);

        // --executor is for Experiments, which name none; a study file names its own.
        var study = Path.Combine(Tuner.RepositoryRoot, "experiments", "quickstart", "study.yaml");
        (exit, _, error) = await Tuner.RunAsync(Root, "run", study, "--executor", "container", "--data", "data");
        Assert.Equal(2, exit);
        Assert.Contains("not a Katib Experiment", error);
    }

    [Fact]
    public async Task A_server_takes_an_experiment_as_a_study_file_and_runs_it()
    {
        const string experiment = """
            apiVersion: kubeflow.org/v1beta1
            kind: Experiment
            metadata: {name: posted}
            spec:
              objective: {type: maximize, objectiveMetricName: score}
              algorithm: {algorithmName: grid}
              maxTrialCount: 3
              parallelTrialCount: 1
              parameters:
                - {name: num-units, parameterType: int, feasibleSpace: {min: "1", max: "3"}}
              trialTemplate:
                trialParameters: [{name: units, reference: num-units}]
                trialSpec:
                  apiVersion: batch/v1
                  kind: Job
                  spec:
                    template:
                      spec:
                        containers:
                          - name: training-container
                            image: busybox
                            command: [sh, -c, "echo score=${trialParameters.units}"]
            """;
        await using var server = await Server.StartAsync();
        using var client = server.Client();
        var created = await client.PostAsync("api/studies", Server.Yaml(experiment));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        // The server keeps the Experiment's text and reads it again as each grain needs it.
        var end = await Server.WaitForEndAsync(client, id);
        Assert.Equal("Succeeded", end.GetProperty("status").GetString());
        Assert.Equal(3, end.GetProperty("succeeded").GetInt32());
        Assert.Equal(experiment, await client.GetStringAsync($"api/studies/{id}/spec"));
        Directory.Delete(server.Folder, recursive: true);
    }
}
