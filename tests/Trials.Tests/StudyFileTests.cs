using Tuning.Algorithms.Space;
using Tuning.Trials.Studies;

namespace Tuning.Trials.Tests;

public class StudyFileTests
{
    /// <summary>DESIGN.md's example study file, which every rule below breaks in one place.</summary>
    internal const string Valid = """
        name: branin-gp
        objective:
          metric: objective
          goal: minimize
          target: 0.3979
          additionalMetrics: [runtime]
        algorithm:
          name: random
          seed: 7
          settings: {}
        earlyStopping:
          name: median
          settings: {minTrials: 5, startStep: 3}
        budget:
          maxTrials: 50
          parallelTrials: 2
          maxFailedTrials: 5
          trialTimeout: 10m
        parameters:
          - {name: x1, type: double, min: -5, max: 10}
          - {name: lr, type: double, min: 1e-5, max: 1e-1, scale: log}
          - {name: layers, type: int, min: 1, max: 8}
          - {name: batch, type: discrete, values: [16, 32, 64, 128]}
          - {name: optimizer, type: categorical, values: [sgd, adam]}
          - {name: x2, type: double, min: 0, max: 15, step: 0.5}
        trial:
          executor: local
          steps:
            - name: prepare
              command: [python3, prepare.py, --out, "${outputs}/data.npz"]
              image: python:3.12
            - name: train
              dependsOn: [prepare]
              command: [python3, train.py, --data, "${steps.prepare.outputs}/data.npz",
                        --lr, "${params.lr}", --layers, "${params.layers}"]
              resources: {gpu: 1, cpu: 2, memory: 4Gi}
              cache: false
        """;

    private static IReadOnlyList<StudyFileError> Errors(string text)
    {
        var e = Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, "/studies"));
        Assert.NotEmpty(e.Errors);
        return e.Errors;
    }

    private static StudyFileError Single(string text, string path, string fragment)
    {
        var errors = Errors(text);
        var error = errors.FirstOrDefault(e => e.Path == path && e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase));
        Assert.True(error is not null, $"expected an error at '{path}' saying '{fragment}', got:\n{string.Join("\n", errors)}");
        return error!;
    }

    private static string Replace(string from, string to)
    {
        Assert.Contains(from, Valid);
        return Valid.Replace(from, to);
    }

    [Fact]
    public void The_design_example_loads_with_every_field()
    {
        var spec = StudyFile.Parse(Valid, "/studies");
        Assert.Equal("branin-gp", spec.Name);
        Assert.Equal(Goal.Minimize, spec.Objective.Goal);
        Assert.Equal(0.3979, spec.Objective.Target);
        Assert.Equal(["runtime"], spec.Objective.AdditionalMetrics);
        Assert.Equal(7, spec.Algorithm.Seed);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.Budget.TrialTimeout);
        Assert.Equal(6, spec.Space.Dimensions);
        Assert.True(Assert.IsType<DoubleParameter>(spec.Space.Parameters[1]).Log);
        Assert.Equal(0.5, Assert.IsType<DoubleParameter>(spec.Space.Parameters[5]).Step);
        Assert.Equal(["sgd", "adam"], Assert.IsType<CategoricalParameter>(spec.Space.Parameters[4]).Values.ToArray());
        Assert.Equal(2, spec.Trial.Steps.Count);
        Assert.Equal(["prepare"], spec.Trial.Steps[1].DependsOn);
        Assert.Equal(1, spec.Trial.Steps[1].Resources.Gpu);
        Assert.Equal("4Gi", spec.Trial.Steps[1].Resources.Memory);
        Assert.False(spec.Trial.Steps[1].Cache);
        Assert.True(spec.Trial.Steps[0].Cache);
        Assert.Equal("/studies", spec.StudyDirectory);
    }

    [Fact]
    public void Json_is_accepted_with_the_same_fields()
    {
        const string json = """
            {"name": "json-study",
             "objective": {"metric": "loss", "goal": "maximize"},
             "budget": {"maxTrials": 3},
             "parameters": [{"name": "x", "type": "int", "min": 0, "max": 4}],
             "trial": {"steps": [{"name": "s", "command": ["echo", "loss=${params.x}"]}]}}
            """;
        var spec = StudyFile.Parse(json, "/studies");
        Assert.Equal(Goal.Maximize, spec.Objective.Goal);
        Assert.Equal("random", spec.Algorithm.Name);
        Assert.Equal(1, spec.Budget.ParallelTrials);
    }

    [Fact]
    public void Json_errors_have_lines_too()
    {
        const string json = "{\"name\": \"j\",\n \"objective\": {\"metric\": \"loss\", \"goal\": \"up\"},\n \"budget\": {\"maxTrials\": 3},\n \"parameters\": [{\"name\": \"x\", \"type\": \"int\", \"min\": 0, \"max\": 4}],\n \"trial\": {\"steps\": [{\"name\": \"s\", \"command\": [\"true\"]}]}}";
        var error = Single(json, "objective.goal", "minimize or maximize");
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Errors_name_line_and_column()
    {
        var error = Single(Replace("goal: minimize", "goal: smallest"), "objective.goal", "must be minimize or maximize");
        Assert.Equal(4, error.Line);
        Assert.Equal(9, error.Column);
        Assert.Contains("line 4, column 9", error.ToString());
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var text = Replace("goal: minimize", "goal: up").Replace("maxTrials: 50", "maxTrials: 0").Replace("name: random", "name: magic");
        var paths = Errors(text).Select(e => e.Path).ToArray();
        Assert.Contains("objective.goal", paths);
        Assert.Contains("budget.maxTrials", paths);
        Assert.Contains("algorithm.name", paths);
    }

    [Theory]
    [InlineData("  metric: objective\n", "  metrik: objective\n", "objective.metrik", "unknown field 'metrik'")]
    [InlineData("name: branin-gp\n", "name: branin-gp\ncolour: blue\n", "colour", "unknown field 'colour'")]
    [InlineData("{name: x1, type: double, min: -5, max: 10}", "{name: x1, type: double, min: -5, max: 10, values: [1]}", "parameters[0].values", "unknown field 'values' for a double parameter")]
    [InlineData("      cache: false", "      cache: false\n      retries: 3", "trial.steps[1].retries", "unknown field")]
    public void Unknown_fields_are_refused(string from, string to, string path, string fragment) =>
        Single(Replace(from, to), path, fragment);

    [Fact]
    public void A_missing_objective_metric_is_refused() =>
        Single(Replace("  metric: objective\n", ""), "objective.metric", "missing");

    [Fact]
    public void A_goal_other_than_minimize_or_maximize_is_refused() =>
        Single(Replace("goal: minimize", "goal: lowest"), "objective.goal", "minimize or maximize");

    [Fact]
    public void Min_above_max_is_refused() =>
        Single(Replace("{name: x1, type: double, min: -5, max: 10}", "{name: x1, type: double, min: 10, max: -5}"), "parameters[0].min", "less than max");

    [Fact]
    public void Log_scale_with_min_at_or_below_zero_is_refused() =>
        Single(Replace("min: 1e-5, max: 1e-1, scale: log", "min: 0, max: 1e-1, scale: log"), "parameters[1].min", "log scale needs min > 0");

    [Fact]
    public void Int_bounds_must_be_whole_numbers() =>
        Single(Replace("{name: layers, type: int, min: 1, max: 8}", "{name: layers, type: int, min: 1.5, max: 8}"), "parameters[2].min", "whole-number");

    [Fact]
    public void An_empty_discrete_list_is_refused() =>
        Single(Replace("values: [16, 32, 64, 128]", "values: []"), "parameters[3].values", "at least one");

    [Fact]
    public void An_empty_categorical_list_is_refused() =>
        Single(Replace("values: [sgd, adam]", "values: []"), "parameters[4].values", "at least one");

    [Fact]
    public void Duplicate_parameter_names_are_refused() =>
        Single(Replace("{name: layers, type: int", "{name: x1, type: int"), "parameters[2].name", "duplicate parameter name 'x1'");

    [Fact]
    public void Unknown_algorithms_are_refused_with_the_allowed_ones() =>
        Single(Replace("name: random", "name: genetic"), "algorithm.name", "unknown algorithm 'genetic'; allowed: random, grid, sobol, tpe, bayesian");

    [Fact]
    public void Unknown_placeholders_are_refused_by_name() =>
        Single(Replace("\"${params.layers}\"", "\"${params.depth}\""), "trial.steps[1].command[7]", "${params.depth}");

    [Fact]
    public void Unknown_placeholder_kinds_are_refused_by_name() =>
        Single(Replace("\"${outputs}/data.npz\"", "\"${output}/data.npz\""), "trial.steps[0].command[3]", "unknown placeholder '${output}'");

    [Fact]
    public void Step_outputs_need_a_dependency() =>
        Single(Replace("dependsOn: [prepare]", "dependsOn: []"), "trial.steps[1].command[3]", "does not depend on");

    [Fact]
    public void Depending_on_a_missing_step_is_refused_by_name() =>
        Single(Replace("dependsOn: [prepare]", "dependsOn: [prepare, fetch]"), "trial.steps[1].dependsOn[1]", "no step named 'fetch'");

    [Fact]
    public void Dependency_cycles_are_refused()
    {
        var text = Replace("      image: python:3.12", "      image: python:3.12\n      dependsOn: [train]");
        Single(text, "trial.steps[0].dependsOn", "cycle: prepare -> train -> prepare");
    }

    [Fact]
    public void Grid_search_over_a_double_without_step_is_refused()
    {
        var error = Single(Replace("name: random", "name: grid"), "parameters[0].step", "step");
        Assert.Equal(20, error.Line);
    }

    [Fact]
    public void A_study_without_steps_is_refused() =>
        Single(Replace(Valid[Valid.IndexOf("  steps:", StringComparison.Ordinal)..], "  steps: []\n"), "trial.steps", "no steps");

    [Fact]
    public void MaxTrials_below_one_is_refused() =>
        Single(Replace("maxTrials: 50", "maxTrials: 0"), "budget.maxTrials", "at least 1");

    [Fact]
    public void ParallelTrials_below_one_is_refused() =>
        Single(Replace("parallelTrials: 2", "parallelTrials: 0"), "budget.parallelTrials", "at least 1");

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n")]
    [InlineData("# only a comment\n")]
    public void An_empty_file_is_refused(string text) =>
        Assert.Contains("empty", Assert.Single(Errors(text)).Message);

    [Fact]
    public void A_file_that_is_not_a_mapping_is_refused_once_with_what_is_expected() =>
        Assert.Contains("expected a study", Assert.Single(Errors("just some text\n")).Message);

    [Fact]
    public void An_empty_step_entry_is_refused_with_what_is_expected() =>
        Single(Replace("    - name: prepare\n", "    -\n    - name: prepare\n"), "trial.steps[0]", "expected a step");

    [Fact]
    public void Yaml_syntax_errors_give_the_line()
    {
        var error = Assert.Single(Errors("name: x\nobjective: {metric: objective\nbudget: 3\n"));
        Assert.Contains("YAML syntax error", error.Message);
        Assert.InRange(error.Line, 2, 4);
    }

    [Fact]
    public void Bad_durations_memory_and_settings_are_refused_with_what_is_allowed()
    {
        var text = Replace("trialTimeout: 10m", "trialTimeout: soon").Replace("memory: 4Gi", "memory: lots").Replace("settings: {}", "settings: {speed: 3}");
        Single(text, "budget.trialTimeout", "90s, 10m");
        Single(text, "trial.steps[1].resources.memory", "4Gi");
        Single(text, "algorithm.settings.speed", "unknown setting");
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("45", 45)]
    public void Durations_read_as_users_write_them(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), StudyFile.ParseDuration(text));
}
