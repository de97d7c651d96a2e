using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuning.Trials.Notebooks;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests;

/// <summary>A Kale-tagged notebook read as a study: its steps, what each reads (by Python's ast), and one error per hostile input.</summary>
public class NotebookTests
{
    private const string Tuning = """
        {"name": "nb", "objective": {"metric": "accuracy", "goal": "maximize"}, "budget": {"maxTrials": 3},
         "parameters": [{"name": "lr", "type": "double", "min": 0.001, "max": 0.1}]}
        """;

    private static string Notebook(IEnumerable<(string Tags, string Source)> cells, string tuning = Tuning) => TaggedNotebook.Of(cells, tuning);

    private static readonly (string, string)[] Valid =
    [
        ("imports", "import math"),
        ("functions", "def scaled(v):\n    return v * factor"),
        ("pipeline-parameters", "lr = 0.01\nfactor = 2\nname = 'adam'"),
        ("step:load", "data = [1, 2, 3]"),
        ("", "data = data + [4]"),
        ("block:train prev:load limit:nvidia.com/gpu:0.5 image:python:3.12", "%time model = sum(data) * lr\nprint(f'loss={model}')"),
        ("step:evaluate prev:train cache:disabled", "accuracy = math.tanh(model)\nunused = len(data)"),
        ("skip", "undefined_variable + 1"),
        ("pipeline-metrics", "print(accuracy)"),
    ];

    private static JsonObject Study(string notebook) => JsonNode.Parse(NotebookStudy.ToStudyFile(notebook, "/nb"))!.AsObject();

    private static JsonObject Run(JsonNode step) =>
        JsonNode.Parse(Convert.FromBase64String((string)step["env"]!["TUNER_NOTEBOOK_STEP"]!))!.AsObject();

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => (string)n!)];

    [Fact]
    public void Each_step_reads_only_what_it_uses_so_a_step_that_reads_no_searched_parameter_has_one_key_per_study()
    {
        var study = Study(Notebook(Valid));
        var steps = study["trial"]!["steps"]!.AsArray();
        Assert.Equal(["load", "train", "evaluate", NotebookStudy.MetricsStep], steps.Select(s => (string)s!["name"]!));
        var spec = StudyFile.Parse(study.ToJsonString(), "/nb");
        Assert.Equal("nb", spec.Name);

        // load reads no parameter: its command names none, so its cache key is the same in every trial.
        var load = steps[0]!;
        Assert.DoesNotContain(Strings(load["command"]), a => a.Contains("${params.", StringComparison.Ordinal));
        Assert.Equal(["data"], Strings(Run(load)["outputs"]));
        // The functions cell reads factor, which every step then reads; lr only where a cell reads it.
        Assert.Equal(["factor"], Run(load)["parameters"]!.AsObject().Select(p => p.Key));

        var train = steps[1]!;
        Assert.Contains("lr=${params.lr}", Strings(train["command"]));
        Assert.Contains("load=${steps.load.outputs}", Strings(train["command"]));
        Assert.Equal(0.5, (double)train["resources"]!["gpu"]!);
        Assert.Equal("python:3.12", (string)train["image"]!);
        Assert.Equal("load", (string)Run(train)["inputs"]!["data"]!);
        Assert.Equal(["model"], Strings(Run(train)["outputs"]));

        var evaluate = steps[2]!;
        Assert.False((bool)evaluate["cache"]!);
        Assert.Equal(["load", "train"], Strings(evaluate["dependsOn"]));
        Assert.Equal(new Dictionary<string, string> { ["data"] = "load", ["model"] = "train" },
            Run(evaluate)["inputs"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!));

        var metrics = steps[3]!;
        Assert.Equal(["accuracy"], Strings(Run(metrics)["metrics"]));
        Assert.Equal("evaluate", (string)Run(metrics)["inputs"]!["accuracy"]!);
        Assert.Equal(["load", "train", "evaluate"], Strings(metrics["dependsOn"]));
    }

    [Fact]
    public void A_cell_holding_a_placeholder_stays_code()
    {
        var cells = Valid.Select(c => c.Item1 == "step:load" ? (c.Item1, "data = ['${params.lr}']") : c);
        var spec = StudyFile.Parse(NotebookStudy.ToStudyFile(Notebook(cells), "/nb"), "/nb");
        Assert.Equal(4, spec.Trial.Steps.Count);
    }

    /// <summary>Each hostile notebook: one error naming the cell (index and first line) or the field.</summary>
    [Theory]
    [InlineData("block:train prev:load limit:nvidia.com/gpu:0.5 image:python:3.12", "block:train prev:evaluate", "cell 5 (%time model = sum(data) * lr): prev: cycle train -> evaluate -> train")]
    [InlineData("step:evaluate prev:train cache:disabled", "step:evaluate prev:tain", "cell 6 (accuracy = math.tanh(model)): prev:tain names no step; steps: load, train, evaluate")]
    [InlineData("step:evaluate prev:train cache:disabled", "step:evaluate-model prev:train", "cell 6 (accuracy = math.tanh(model)): step name 'evaluate-model' is not an identifier")]
    [InlineData("pipeline-parameters", "pipeline-parameters", "cell 2 (lr = 0.01): a pipeline-parameters cell holds plain assignments only (name = literal); line 4 is not one", "lr = 0.01\nfactor = 2\nname = 'adam'\nlr += 1")]
    [InlineData("step:evaluate prev:train cache:disabled", "step:evaluate prev:load", "cell 6 (accuracy = math.tanh(model)): reads model, which no step before it defines (step evaluate follows load)")]
    [InlineData("pipeline-metrics", "pipeline-metrics", "cell 8 (accuracy * 2): a pipeline-metrics cell names variables", "accuracy * 2")]
    [InlineData("pipeline-parameters", "pipeline-parameters", "metadata.tuning.parameters: lr is searched but not assigned in the pipeline-parameters cell", "factor = 2\nname = 'adam'")]
    public void A_hostile_notebook_is_one_clear_error(string tags, string newTags, string message, string? source = null)
    {
        var cells = Valid.Select(c => c.Item1 == tags ? (newTags, source ?? c.Item2) : c).ToList();
        var e = Assert.Throws<StudyFileException>(() => NotebookStudy.ToStudyFile(Notebook(cells), "/nb"));
        Assert.Contains(e.Errors, error => error.Message.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_step_with_no_code_and_cells_outside_any_step_are_errors_naming_the_cell()
    {
        var e = Assert.Throws<StudyFileException>(() => NotebookStudy.ToStudyFile(Notebook([("", "x = 1"), ("step:empty", "  \n"), ("step:s", "y = 2")]), "/nb"));
        Assert.Equal(["cell 0 (x = 1): belongs to no step; tag it step:NAME, or skip", "cell 1 (): step empty has no code"], e.Errors.Select(x => x.Message));
    }

    [Fact]
    public void Not_json_and_over_4_mib_are_one_error_each()
    {
        var e = Assert.Throws<StudyFileException>(() => NotebookStudy.ToStudyFile("{\"cells\": [\n  {oops}", "/nb"));
        Assert.StartsWith("not a notebook: not JSON (line 2, position 4)", Assert.Single(e.Errors).Message);

        var file = Path.Combine(Directory.CreateTempSubdirectory("tuning-nb-").FullName, "big.ipynb");
        try
        {
            File.WriteAllText(file, new string(' ', StudyFile.MaxBytes + 1));
            e = Assert.Throws<StudyFileException>(() => NotebookStudy.Load(file));
            Assert.Contains("larger than 4 MiB", Assert.Single(e.Errors).Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    [Fact]
    public void The_study_comes_from_the_tuning_metadata_which_may_not_name_a_trial()
    {
        var invalid = Assert.Throws<StudyFileException>(() => NotebookStudy.ToStudyFile(Notebook(Valid, Tuning.Replace("maximize", "highest")), "/nb"));
        Assert.Equal("metadata.tuning.objective.goal: must be minimize or maximize, got 'highest'", Assert.Single(invalid.Errors).ToString());
        var e = Assert.Throws<StudyFileException>(() => NotebookStudy.ToStudyFile(Notebook(Valid, Tuning.Replace("\"budget\"", "\"trial\": {}, \"budget\"")), "/nb"));
        Assert.StartsWith("metadata.tuning.trial", Assert.Single(e.Errors).Message);
        var text = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(JsonNode.Parse(Notebook(Valid))!["metadata"]!["tuning"]));
        Assert.Contains("\"maxTrials\":3", text);
    }

    /// <summary>Valid with Kale's katib_metadata (as Kale writes it: Katib's fields, numbers as strings) for its study.</summary>
    private static string KaleNotebook(string katibMetadata)
    {
        var notebook = JsonNode.Parse(Notebook(Valid))!.AsObject();
        notebook["metadata"] = new JsonObject
        {
            ["kubeflow_notebook"] = new JsonObject { ["experiment_name"] = "kale-nb", ["katib_run"] = true, ["katib_metadata"] = JsonNode.Parse(katibMetadata) },
        };
        return notebook.ToJsonString();
    }

    private const string KatibMetadata = """
        {"parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "0.1"}}],
         "objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": []},
         "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "5"}]},
         "maxTrialCount": 3, "parallelTrialCount": 1, "maxFailedTrialCount": 1}
        """;

    [Fact]
    public void Kales_katib_metadata_gives_the_study_read_as_a_katib_experiment_is()
    {
        var spec = StudyFile.Parse(NotebookStudy.ToStudyFile(KaleNotebook(KatibMetadata), "/nb"), "/nb");
        Assert.Equal("kale-nb", spec.Name);
        Assert.Equal(("accuracy", Goal.Maximize), (spec.Objective.Metric, spec.Objective.Goal));
        Assert.Equal(("random", 5), (spec.Algorithm.Name, spec.Algorithm.Seed));
        Assert.Equal((3, 1, 1), (spec.Budget.MaxTrials, spec.Budget.ParallelTrials, spec.Budget.MaxFailedTrials));
        Assert.Equal(new Algorithms.Space.DoubleParameter("lr", 0.001, 0.1), spec.Space.Parameters[0]);
        Assert.Contains("lr=${params.lr}", spec.Trial.Steps.Single(s => s.Name == "train").Command);
    }

    [Theory]
    [InlineData("\"random\"", "\"pbt\"", "metadata.kubeflow_notebook.katib_metadata.algorithm.algorithmName: pbt is not supported")]
    [InlineData("\"0.001\"", "\"1\"", "metadata.kubeflow_notebook.katib_metadata.parameters[0].feasibleSpace.min: min (1) must be less than max (0.1)")]
    [InlineData("\"maximize\"", "\"up\"", "metadata.kubeflow_notebook.katib_metadata.objective.type: must be minimize or maximize")]
    public void Kales_katib_metadata_errors_name_its_field(string from, string to, string message)
    {
        var e = Assert.Throws<StudyFileException>(() => NotebookStudy.ToStudyFile(KaleNotebook(KatibMetadata.Replace(from, to)), "/nb"));
        Assert.StartsWith(message, Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public void A_study_file_may_name_a_notebook_as_its_trial()
    {
        var folder = Directory.CreateTempSubdirectory("tuning-nb-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "train.ipynb"), Notebook(Valid));
            const string study = """
                name: from-a-study-file
                objective: {metric: accuracy, goal: maximize}
                budget: {maxTrials: 2}
                parameters:
                  - {name: lr, type: double, min: 0.001, max: 0.1}
                trial:
                  notebook: train.ipynb
                """;
            File.WriteAllText(Path.Combine(folder, "study.yaml"), study);
            var (spec, _) = StudyFile.Load(Path.Combine(folder, "study.yaml"));
            Assert.Equal(["load", "train", "evaluate", NotebookStudy.MetricsStep], spec.Trial.Steps.Select(s => s.Name));
            Assert.Contains("lr=${params.lr}", spec.Trial.Steps[1].Command);
            Assert.DoesNotContain(spec.Trial.Steps[0].Command, a => a.Contains("${params.", StringComparison.Ordinal));

            File.WriteAllText(Path.Combine(folder, "study.yaml"), study.Replace("name: lr", "name: momentum"));
            var e = Assert.Throws<StudyFileException>(() => StudyFile.Load(Path.Combine(folder, "study.yaml")));
            Assert.Equal("trial.notebook (line 7, column 13): train.ipynb: momentum is searched (parameters) but not assigned in the notebook's pipeline-parameters cell",
                Assert.Single(e.Errors).ToString());

            File.WriteAllText(Path.Combine(folder, "study.yaml"), study + "\n  steps: []\n");
            e = Assert.Throws<StudyFileException>(() => StudyFile.Load(Path.Combine(folder, "study.yaml")));
            Assert.Contains(e.Errors, error => error.Message == "give steps or a notebook, not both");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
