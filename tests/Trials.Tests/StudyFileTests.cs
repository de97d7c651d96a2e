using System.Text;
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

    /// <summary>
    /// The error at <paramref name="path"/> saying <paramref name="fragment"/>, which must point where
    /// <paramref name="at"/> stands in the text: its first occurrence, at the '|' it holds, or at its start.
    /// </summary>
    private static StudyFileError Single(string text, string path, string fragment, string at)
    {
        var errors = Errors(text);
        var error = errors.FirstOrDefault(e => e.Path == path && e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase));
        Assert.True(error is not null, $"expected an error at '{path}' saying '{fragment}', got:\n{string.Join("\n", errors)}");
        var cut = Math.Max(at.IndexOf('|'), 0);
        var found = text.IndexOf(at.Replace("|", ""), StringComparison.Ordinal);
        Assert.True(found >= 0, $"'{at}' is not in the text");
        var offset = found + cut;
        var line = text[..offset].Count(c => c == '\n') + 1;
        var column = offset - (text.LastIndexOf('\n', Math.Max(offset - 1, 0)) is var newline && newline >= 0 && newline < offset ? newline + 1 : 0) + 1;
        Assert.True((line, column) == (error!.Line, error.Column), $"'{error}' should point at line {line}, column {column} ('{at}')");
        return error;
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

    private static string SeveralObjectives(string objectives, string constraints = "") =>
        Replace("""
            objective:
              metric: objective
              goal: minimize
              target: 0.3979
              additionalMetrics: [runtime]

            """, objectives + constraints);

    [Fact]
    public void Several_objectives_and_constraints_load_in_the_files_order()
    {
        var spec = StudyFile.Parse(SeveralObjectives("""
            objectives:
              - {metric: accuracy, goal: maximize}
              - {metric: latency_ms, goal: minimize, reference: 200}

            """, """
            constraints:
              - {metric: memory_mb, max: 512}
              - {metric: recall, min: 0.8, monotone: true}

            """), "/studies");
        Assert.True(spec.RanksByPareto);
        Assert.Equal(["accuracy", "latency_ms"], spec.Objectives.Select(o => o.Metric));
        Assert.Equal(spec.Objectives[0], spec.Objective);
        Assert.Equal([null, 200], spec.Objectives.Select(o => o.Reference));
        Assert.Equal(Goal.Maximize, spec.Objectives[0].Goal);
        Assert.Equal([new ConstraintSpec("memory_mb", 512, null, false), new ConstraintSpec("recall", null, 0.8, true)], spec.AllConstraints);
        Assert.Equal(["accuracy", "latency_ms", "memory_mb", "recall"], spec.RequiredMetrics);
        Assert.Equal(0, spec.AllConstraints[0].Violation(512));
        Assert.Equal(0.25, spec.AllConstraints[1].Violation(0.55), 12);
    }

    [Fact]
    public void A_single_objective_study_has_one_objective_and_no_constraints()
    {
        var spec = StudyFile.Parse(Valid, "/studies");
        Assert.False(spec.RanksByPareto);
        Assert.Equal([spec.Objective], spec.Objectives);
        Assert.Empty(spec.AllConstraints);
    }

    [Fact]
    public void Objective_and_objectives_at_once_are_refused() =>
        Single(Replace("budget:", "objectives: [{metric: a, goal: minimize}, {metric: b, goal: maximize}]\nbudget:"),
            "objectives", "not both", at: "[{metric: a");

    [Theory]
    [InlineData("objectives: [{metric: a, goal: minimize}]\n", "objectives", "lists 1 objectives; give 2 to 4", "[{metric: a")]
    [InlineData("objectives: [{metric: a, goal: minimize}, {metric: a, goal: maximize}]\n", "objectives[1].metric", "'a' is already an objective", "a, goal: maximize")]
    [InlineData("objectives: [{metric: a, goal: minimize}, {metric: b, goal: up}]\n", "objectives[1].goal", "must be minimize or maximize, got 'up'", "up}")]
    [InlineData("objectives: [{metric: a, goal: minimize}, {metric: b, goal: maximize, target: 3}]\n", "objectives[1].target", "unknown field 'target'", "target: 3")]
    [InlineData("objectives: [{metric: a, goal: minimize, reference: high}, {metric: b, goal: maximize}]\n", "objectives[0].reference", "must be a number", "high")]
    [InlineData("objectives: {metric: a, goal: minimize}\n", "objectives", "must be a list", "{metric: a")]
    public void Several_objectives_are_checked_field_by_field(string objectives, string path, string fragment, string at) =>
        Single(SeveralObjectives(objectives), path, fragment, at);

    [Theory]
    [InlineData("constraints: [{metric: memory}]\n", "constraints[0]", "missing: a bound, max or min", "{metric: memory")]
    [InlineData("constraints: [{metric: memory, max: 1, min: 2}]\n", "constraints[0].max", "below min 2", "1, min")]
    [InlineData("constraints: [{metric: memory, max: lots}]\n", "constraints[0].max", "must be a number", "lots")]
    [InlineData("constraints: [{metric: memory, max: 1, monotone: sometimes}]\n", "constraints[0].monotone", "must be true or false", "sometimes")]
    [InlineData("constraints: [{metric: memory, max: 1}, {metric: memory, min: 0}]\n", "constraints[1].metric", "constrained already", "memory, min")]
    [InlineData("constraints: [{metric: a, max: 1}]\n", "constraints[0].metric", "'a' is an objective", "a, max")]
    [InlineData("constraints: [{metric: memory, maximum: 1}]\n", "constraints[0].maximum", "unknown field 'maximum'", "maximum")]
    public void Constraints_are_checked_field_by_field(string constraints, string path, string fragment, string at) =>
        Single(SeveralObjectives("objectives: [{metric: a, goal: minimize}, {metric: b, goal: maximize}]\n", constraints), path, fragment, at);

    [Fact]
    public void An_objectives_entry_is_named_by_its_metric_in_errors()
    {
        var error = Single(SeveralObjectives("objectives: [{metric: a, goal: minimize}, {metric: latency, goal: low}]\n"),
            "objectives[1].goal", "must be minimize or maximize", at: "low}");
        Assert.Equal("objectives[1] (latency).goal", error.Label);
    }

    [Fact]
    public void A_single_objective_may_carry_constraints()
    {
        var spec = StudyFile.Parse(Replace("budget:", "constraints: [{metric: memory, max: 512}]\nbudget:"), "/studies");
        Assert.Equal(["objective", "memory"], spec.RequiredMetrics);
        Assert.True(spec.RanksByPareto);
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
        var error = Single(json, "objective.goal", "minimize or maximize", at: "\"up\"");
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Errors_name_line_and_column()
    {
        var error = Single(Replace("goal: minimize", "goal: smallest"), "objective.goal", "must be minimize or maximize", at: "smallest");
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
    [InlineData("  metric: objective\n", "  metrik: objective\n", "objective.metrik", "unknown field 'metrik'", "metrik")]
    [InlineData("name: branin-gp\n", "name: branin-gp\ncolour: blue\n", "colour", "unknown field 'colour'", "colour")]
    [InlineData("{name: x1, type: double, min: -5, max: 10}", "{name: x1, type: double, min: -5, max: 10, values: [1]}", "parameters[0].values", "unknown field 'values' for a double parameter", "values: [1]")]
    [InlineData("      cache: false", "      cache: false\n      retries: 3", "trial.steps[1].retries", "unknown field", "retries")]
    public void Unknown_fields_are_refused(string from, string to, string path, string fragment, string at) =>
        Single(Replace(from, to), path, fragment, at);

    [Theory]
    [InlineData("gpu: 0.25", 0.25)]
    [InlineData("gpu: 1", 1.0)]
    [InlineData("gpu: 3", 3.0)]
    public void A_step_may_ask_for_a_fraction_of_one_gpu_or_whole_gpus(string gpu, double expected) =>
        Assert.Equal(expected, StudyFile.Parse(Replace("gpu: 1", gpu), "/studies").Trial.Steps[1].Resources.Gpu);

    [Theory]
    [InlineData("gpu: 1.5")]
    [InlineData("gpu: -0.25")]
    public void More_than_one_gpu_must_be_whole_and_none_is_negative(string gpu) =>
        Single(Replace("gpu: 1", gpu), "trial.steps[1].resources.gpu", "a fraction from 0.001 to 1", at: gpu[5..]);

    [Fact]
    public void Asha_is_an_early_stopping_rule_with_its_own_settings()
    {
        var spec = StudyFile.Parse(Replace("name: median\n  settings: {minTrials: 5, startStep: 3}", "name: asha\n  settings: {minStep: 2, reductionFactor: 4}"), "/studies");
        Assert.Equal("asha", spec.EarlyStopping!.Name);
        Single(Replace("name: median", "name: pbt"), "earlyStopping.name", "allowed: median, asha, hyperband", at: "pbt");
        Single(Replace("startStep: 3", "minStep: 3"), "earlyStopping.settings.minStep", "allowed: minTrials, startStep", at: "minStep: |3");
    }

    [Fact]
    public void Hyperband_takes_min_step_max_step_and_reduction_factor_and_needs_max_step()
    {
        var hyperband = Replace("name: median\n  settings: {minTrials: 5, startStep: 3}", "name: hyperband\n  settings: {minStep: 1, maxStep: 52, reductionFactor: 3}");
        Assert.Equal("52", StudyFile.Parse(hyperband, "/studies").EarlyStopping!.Settings["maxStep"]);
        Single(hyperband.Replace(", maxStep: 52", ""), "earlyStopping.settings.maxStep", "required: the step trials end at", at: "{minStep");
        Single(hyperband.Replace("maxStep: 52", "maxStep: 1"), "earlyStopping.settings.maxStep", "must be more than minStep (1), got 1", at: "1, reductionFactor");
    }

    [Fact]
    public void Resource_budgets_take_steps_and_a_duration_beside_max_trials()
    {
        var budget = StudyFile.Parse(Replace("trialTimeout: 10m", "trialTimeout: 10m\n  maxSteps: 1040\n  maxTime: 1h30m"), "/studies").Budget;
        Assert.Equal(1040, budget.MaxSteps);
        Assert.Equal(TimeSpan.FromMinutes(90), budget.MaxTime);
        Assert.Equal(TimeSpan.FromSeconds(90), StudyFile.Parse(Replace("trialTimeout: 10m", "maxTime: 90"), "/studies").Budget.MaxTime);
        var none = StudyFile.Parse(Valid, "/studies").Budget;
        Assert.Null(none.MaxSteps);
        Assert.Null(none.MaxTime);
        Single(Replace("trialTimeout: 10m", "maxSteps: 0"), "budget.maxSteps", "at least 1", at: "maxSteps: |0");
        Single(Replace("trialTimeout: 10m", "maxTime: soon"), "budget.maxTime", "not a duration; write it like 90s", at: "soon");
        Single(Replace("trialTimeout: 10m", "maxTime: 400d"), "budget.maxTime", "longer than the longest study time, 365d", at: "400d");
    }

    /// <summary>The example with its pipeline replaced by <c>trial: {external: EXTERNAL}</c>.</summary>
    private static string External(string external) =>
        Valid[..Valid.IndexOf("trial:\n", StringComparison.Ordinal)] + $"trial:\n  external: {external}\n";

    [Fact]
    public void External_trials_take_a_heartbeat_timeout_and_no_steps()
    {
        Assert.Equal(TimeSpan.FromSeconds(90), StudyFile.Parse(External("{heartbeatTimeout: 90s}"), "/studies").Trial.External!.HeartbeatTimeout);
        var defaulted = StudyFile.Parse(External("{}"), "/studies").Trial;
        Assert.Equal(ExternalSpec.DefaultHeartbeatTimeout, defaulted.External!.HeartbeatTimeout);
        Assert.Empty(defaulted.Steps);
        Assert.Null(StudyFile.Parse(Valid, "/studies").Trial.External);
    }

    [Fact]
    public void External_trials_refuse_steps_and_a_bad_heartbeat_timeout()
    {
        Single(Replace("  executor: local\n", "  external: {}\n"), "trial.steps", "not with trial.external", at: "- name: prepare");
        Single(External("{heartbeatTimeout: soon}"), "trial.external.heartbeatTimeout", "not a duration", at: "soon");
        Single(External("{heartbeat: 5m}"), "trial.external.heartbeat", "unknown field", at: "heartbeat:");
    }

    [Fact]
    public void A_container_executor_needs_an_image_on_every_step() =>
        Single(Replace("executor: local", "executor: container"), "trial.steps[1]", "missing field 'image': executor container", at: "name: train");

    [Fact]
    public void A_missing_objective_metric_is_refused() =>
        Single(Replace("  metric: objective\n", ""), "objective.metric", "missing", at: "goal: minimize");

    [Fact]
    public void A_goal_other_than_minimize_or_maximize_is_refused() =>
        Single(Replace("goal: minimize", "goal: lowest"), "objective.goal", "minimize or maximize", at: "lowest");

    [Fact]
    public void Min_above_max_is_refused() =>
        Single(Replace("{name: x1, type: double, min: -5, max: 10}", "{name: x1, type: double, min: 10, max: -5}"), "parameters[0].min", "less than max", at: "10, max: -5");

    [Fact]
    public void Log_scale_with_min_at_or_below_zero_is_refused() =>
        Single(Replace("min: 1e-5, max: 1e-1, scale: log", "min: 0, max: 1e-1, scale: log"), "parameters[1].min", "log scale needs min > 0", at: "min: |0, max");

    [Fact]
    public void Int_bounds_must_be_whole_numbers() =>
        Single(Replace("{name: layers, type: int, min: 1, max: 8}", "{name: layers, type: int, min: 1.5, max: 8}"), "parameters[2].min", "whole-number", at: "1.5");

    [Fact]
    public void An_empty_discrete_list_is_refused() =>
        Single(Replace("values: [16, 32, 64, 128]", "values: []"), "parameters[3].values", "at least one", at: "[]");

    [Fact]
    public void An_empty_categorical_list_is_refused() =>
        Single(Replace("values: [sgd, adam]", "values: []"), "parameters[4].values", "at least one", at: "[]");

    [Fact]
    public void Duplicate_parameter_names_are_refused() =>
        Single(Replace("{name: layers, type: int", "{name: x1, type: int"), "parameters[2].name", "duplicate parameter name 'x1'", at: "x1, type: int");

    [Fact]
    public void Unknown_algorithms_are_refused_with_the_allowed_ones() =>
        Single(Replace("name: random", "name: genetic"), "algorithm.name", "unknown algorithm 'genetic'; allowed: random, grid, sobol, tpe, bayesian", at: "genetic");

    [Fact]
    public void Unknown_placeholders_are_refused_by_name() =>
        Single(Replace("\"${params.layers}\"", "\"${params.depth}\""), "trial.steps[1].command[7]", "${params.depth}", at: "\"${params.depth}");

    [Fact]
    public void Unknown_placeholder_kinds_are_refused_by_name() =>
        Single(Replace("\"${outputs}/data.npz\"", "\"${output}/data.npz\""), "trial.steps[0].command[3]", "unknown placeholder '${output}'", at: "\"${output}");

    [Fact]
    public void Step_outputs_need_a_dependency() =>
        Single(Replace("dependsOn: [prepare]", "dependsOn: []"), "trial.steps[1].command[3]", "does not depend on", at: "\"${steps.prepare");

    [Fact]
    public void Depending_on_a_missing_step_is_refused_by_name() =>
        Single(Replace("dependsOn: [prepare]", "dependsOn: [prepare, fetch]"), "trial.steps[1].dependsOn[1]", "no step named 'fetch'", at: "fetch");

    [Fact]
    public void Dependency_cycles_are_refused()
    {
        var text = Replace("      image: python:3.12", "      image: python:3.12\n      dependsOn: [train]");
        Single(text, "trial.steps[0].dependsOn", "cycle: prepare -> train -> prepare", at: "[train]");
    }

    [Fact]
    public void Grid_search_over_a_double_without_step_is_refused()
    {
        Single(Replace("name: random", "name: grid"), "parameters[0].step", "step", at: "{name: x1");
    }

    [Fact]
    public void A_study_without_steps_is_refused() =>
        Single(Replace(Valid[Valid.IndexOf("  steps:", StringComparison.Ordinal)..], "  steps: []\n"), "trial.steps", "no steps", at: "[]");

    [Fact]
    public void MaxTrials_below_one_is_refused() =>
        Single(Replace("maxTrials: 50", "maxTrials: 0"), "budget.maxTrials", "at least 1", at: "maxTrials: |0");

    [Fact]
    public void ParallelTrials_below_one_is_refused() =>
        Single(Replace("parallelTrials: 2", "parallelTrials: 0"), "budget.parallelTrials", "at least 1", at: "parallelTrials: |0");

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
        Single(Replace("    - name: prepare\n", "    -\n    - name: prepare\n"), "trial.steps[0]", "expected a step", at: "-|\n");

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
        Single(text, "budget.trialTimeout", "90s, 10m", at: "soon");
        Single(text, "trial.steps[1].resources.memory", "4Gi", at: "lots");
        Single(text, "algorithm.settings.speed", "unknown setting", at: "speed: |3");
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("45", 45)]
    public void Durations_read_as_users_write_them(string text, double seconds) =>
        Assert.Equal(seconds, StudyFile.DurationSeconds(text));

    [Theory]
    [InlineData("1e12")]
    [InlineData("99999999d")]
    [InlineData("31d")]
    [InlineData("1e400")]
    public void A_timeout_longer_than_a_timer_holds_is_refused_not_a_crash(string timeout) =>
        Single(Replace("trialTimeout: 10m", $"trialTimeout: {timeout}"), "budget.trialTimeout", "longer than the longest trial timeout, 30d", at: timeout);

    [Fact]
    public void Grid_search_over_a_huge_int_range_is_validated_without_listing_it()
    {
        var text = Replace("name: random", "name: grid").Replace("{name: x1, type: double, min: -5, max: 10}", "{name: x1, type: int, min: 0, max: 1e12}")
            .Replace("min: 1e-5, max: 1e-1, scale: log", "min: 1e-5, max: 1e-1, scale: log, step: 0.01");
        var spec = StudyFile.Parse(text, "/studies");
        Assert.Equal(1_000_000_000_001, spec.Space.Parameters[0].GridSize);
    }

    [Fact]
    public void Errors_under_a_parameter_or_step_name_it_beside_its_index()
    {
        var errors = Errors(Replace("values: [sgd, adam]", "values: []").Replace("      cache: false", "      cache: false\n      retries: 3"));
        var category = Assert.Single(errors, e => e.Path == "parameters[4].values").ToString();
        Assert.StartsWith("parameters[4] (optimizer).values (line ", category);
        Assert.EndsWith("): must list at least one category", category);
        Assert.StartsWith("trial.steps[1] (train).retries (line ", Assert.Single(errors, e => e.Path == "trial.steps[1].retries").ToString());
    }

    [Fact]
    public void A_study_file_that_cannot_be_read_is_one_error_saying_why()
    {
        var folder = Directory.CreateTempSubdirectory("tuning-unreadable-").FullName;
        try
        {
            Assert.Contains("is a folder", Assert.Single(Assert.Throws<StudyFileException>(() => StudyFile.Load(folder)).Errors).Message);
            var missing = Path.Combine(folder, "missing.yaml");
            Assert.Contains("cannot read", Assert.Single(Assert.Throws<StudyFileException>(() => StudyFile.Load(missing)).Errors).Message);
            var huge = Path.Combine(folder, "huge.yaml");
            File.WriteAllText(huge, new string('#', StudyFile.MaxBytes + 1));
            Assert.Contains("larger than 4 MiB", Assert.Single(Assert.Throws<StudyFileException>(() => StudyFile.Load(huge)).Errors).Message);
            // A device that claims no length and never ends is read only up to the limit.
            Assert.Contains("larger than 4 MiB", Assert.Single(Assert.Throws<StudyFileException>(() => StudyFile.Load("/dev/zero")).Errors).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    public void A_file_nested_absurdly_deep_is_an_error_not_a_stack_overflow(string open, string close)
    {
        var text = "name: deep\nobjective: " + string.Concat(Enumerable.Repeat(open, 50_000)) + "1" + string.Concat(Enumerable.Repeat(close, 50_000));
        var error = Assert.Single(Errors(text));
        Assert.Contains("nested more than 64", error.Message);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void An_empty_program_or_a_timeout_under_a_millisecond_is_refused()
    {
        Single(Replace("command: [python3, prepare.py", "command: [\"\", prepare.py"), "trial.steps[0].command[0]", "must not be empty", at: "\"\", prepare");
        Single(Replace("trialTimeout: 10m", "trialTimeout: 0.0000001ms"), "budget.trialTimeout", "shorter than a millisecond", at: "0.0000001ms");
    }

    [Fact]
    public void A_parameter_error_does_not_hide_a_placeholder_error_and_errors_come_in_file_order()
    {
        var text = Replace("values: [sgd, adam]", "values: []").Replace("\"${params.layers}\"", "\"${params.depth}\"");
        var errors = Errors(text);
        Assert.Contains(errors, e => e.Path == "parameters[4].values");
        Assert.Contains(errors, e => e.Path == "trial.steps[1].command[7]" && e.Message.Contains("${params.depth}"));
        Assert.Equal(errors.OrderBy(e => e.Line).ThenBy(e => e.Column), errors);
    }

    [Theory]
    [InlineData("500M", 500L << 20)]
    [InlineData("10G", 10L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    public void A_trial_disk_quota_is_a_size_in_binary_units(string quota, long bytes)
    {
        Assert.Equal(BudgetSpec.DefaultTrialDiskQuota, StudyFile.Parse(Valid, "/studies").Budget.TrialDiskQuota);
        Assert.Equal(bytes, StudyFile.Parse(Replace("trialTimeout: 10m", $"trialTimeout: 10m\n  trialDiskQuota: {quota}"), "/studies").Budget.TrialDiskQuota);
    }

    [Theory]
    [InlineData("-x")]
    [InlineData("1x")]
    [InlineData("x y")]
    public void A_parameter_name_refused_is_told_exactly_what_a_name_may_be(string name)
    {
        var error = Single(Replace("{name: x1, type: double", $"{{name: \"{name}\", type: double"), "parameters[0].name", "not a parameter name", at: $"\"{name}\"");
        Assert.Equal($"'{name}' is not a parameter name (a letter or '_', then letters, digits, '_', '.' or '-')", error.Message);
    }

    [Fact]
    public void Limits_against_hostile_files_are_errors_naming_them()
    {
        Single(Replace("trialTimeout: 10m", "trialDiskQuota: lots"), "budget.trialDiskQuota", "not a size", at: "lots");
        Single(Replace("trialTimeout: 10m", "trialDiskQuota: 1K"), "budget.trialDiskQuota", "less than the smallest quota", at: "1K");
        Single(Replace("parallelTrials: 2", "parallelTrials: 5000"), "budget.parallelTrials", "more than the 1000", at: "5000");
        var wide = Replace("  - {name: x1, type: double, min: -5, max: 10}",
            string.Join("\n", Enumerable.Range(0, 1001).Select(i => $"  - {{name: p{i}, type: double, min: 0, max: 1}}")));
        Assert.Contains(Errors(wide), e => e.Path == "parameters" && e.Message.Contains("more than the 1000"));
        var nul = Errors(Replace("command: [python3, prepare.py,", "env: {\"A=B\": x, C: \"v\\0w\"}\n      command: [python3, \"pre\\0pare.py\","));
        Assert.Contains(nul, e => e.Path == "trial.steps[0].command[1]" && e.Message.Contains("NUL"));
        Assert.Contains(nul, e => e.Path == "trial.steps[0].env" && e.Message.Contains("'A=B' is not an environment variable name"));
        Assert.Contains(nul, e => e.Path == "trial.steps[0].env.C" && e.Message.Contains("NUL"));
    }

    [Fact]
    public void A_file_with_thousands_of_problems_reports_the_first_hundred_and_how_many_more()
    {
        var keys = string.Join("\n", Enumerable.Range(0, 500).Select(i => $"unknown{i}{new string('x', 500)}: 1"));
        var errors = Errors(Valid + "\n" + keys + "\n");
        Assert.Equal(StudyFile.MaxErrors + 1, errors.Count);
        Assert.Equal("and 400 more problems not listed (the first 100 are)", errors[^1].Message);
        Assert.All(errors.SkipLast(1), e => Assert.True(e.Path.Length <= 81, e.Path));
    }

    // enqueue: parameter sets run first, checked against the space.

    private static string Enqueue(string sets) => Replace("parameters:\n", $"enqueue:\n{sets}\nparameters:\n");

    private const string GoodSet = "  - {x1: 1.5, lr: 0.001, layers: 3, batch: 32, optimizer: adam, x2: 7.5}";

    [Fact]
    public void Enqueued_parameter_sets_are_read_with_their_types()
    {
        var spec = StudyFile.Parse(Enqueue(GoodSet + "\n  - {x1: -5, lr: 1e-5, layers: 8, batch: 128, optimizer: sgd, x2: 15}"), "/studies");
        Assert.Equal(2, spec.Enqueued.Count);
        Assert.Equal(ParameterValue.Of(1.5), spec.Enqueued[0]["x1"]);
        Assert.Equal(ParameterValue.Of(3), spec.Enqueued[0]["layers"]);
        Assert.Equal(ParameterValue.Of("adam"), spec.Enqueued[0]["optimizer"]);
        Assert.Equal(ParameterValue.Of(128), spec.Enqueued[1]["batch"]);
        Assert.Empty(StudyFile.Parse(Valid, "/studies").Enqueued);
    }

    [Theory]
    [InlineData("  - {x1: 1.5, lr: 0.001, layers: 3, batch: 32, optimizer: adam}", "enqueue[0]", "missing parameter 'x2'", "{x1: 1.5")]
    [InlineData("  - {x1: 1.5, lr: 0.001, layers: 3, batch: 32, optimizer: adam, x2: 7.5, depth: 2}", "enqueue[0].depth", "no parameter named 'depth'", "depth: 2")]
    [InlineData("  - {x1: 11, lr: 0.001, layers: 3, batch: 32, optimizer: adam, x2: 7.5}", "enqueue[0].x1", "11 is out of range [-5, 10]", "11, lr")]
    [InlineData("  - {x1: 1.5, lr: 0.5, layers: 3, batch: 32, optimizer: adam, x2: 7.5}", "enqueue[0].lr", "0.5 is out of range [1E-05, 0.1]", "0.5, layers")]
    [InlineData("  - {x1: 1.5, lr: 0.001, layers: 2.5, batch: 32, optimizer: adam, x2: 7.5}", "enqueue[0].layers", "not a whole number", "2.5, batch")]
    [InlineData("  - {x1: 1.5, lr: 0.001, layers: 3, batch: 48, optimizer: adam, x2: 7.5}", "enqueue[0].batch", "48 is not among the values [16, 32, 64, 128]", "48, opt")]
    [InlineData("  - {x1: 1.5, lr: 0.001, layers: 3, batch: 32, optimizer: rmsprop, x2: 7.5}", "enqueue[0].optimizer", "'rmsprop' is not among the categories [sgd, adam]", "rmsprop")]
    [InlineData("  - {x1: 1.5, lr: 0.001, layers: 3, batch: 32, optimizer: adam, x2: 7.25}", "enqueue[0].x2", "not on the step", "7.25}")]
    [InlineData("  - {x1: fast, lr: 0.001, layers: 3, batch: 32, optimizer: adam, x2: 7.5}", "enqueue[0].x1", "'fast' is not a number", "fast")]
    [InlineData("  - [1.5, 0.001]", "enqueue[0]", "must be a parameter set", "[1.5")]
    public void An_enqueued_set_outside_the_space_is_refused_naming_the_parameter(string set, string path, string fragment, string at)
    {
        var text = Enqueue(set + "\n" + GoodSet);
        Single(text, path, fragment, at);
        Assert.DoesNotContain(Errors(text), e => e.Path.StartsWith("enqueue[1]", StringComparison.Ordinal));
    }

    [Fact]
    public void More_enqueued_sets_than_the_budget_or_an_enqueue_under_grid_search_is_refused()
    {
        var text = Enqueue(GoodSet + "\n" + GoodSet).Replace("maxTrials: 50", "maxTrials: 1");
        Single(text, "enqueue", "more than budget.maxTrials (1)", at: "- {x1: 1.5");
        var grid = Enqueue(GoodSet).Replace("name: random", "name: grid").Replace("{name: x1, type: double, min: -5, max: 10}", "{name: x1, type: double, min: -5, max: 10, step: 0.5}")
            .Replace("{name: lr, type: double, min: 1e-5, max: 1e-1, scale: log}", "{name: lr, type: discrete, values: [1e-5, 1e-3, 1e-1]}");
        Single(grid, "enqueue", "grid search runs every grid point", at: "- {x1: 1.5");
    }

    // warmStart: an earlier study's trials as observations, checked against the space.

    private static readonly string EarlierTrial = """{"number": 0, "status": "Succeeded", "parameters": {"x1": 1.5, "lr": 0.001, "layers": 3, "batch": 32, "optimizer": "adam", "x2": 7.5}, "metrics": {"objective": 2.5, "runtime": 3}}""";

    /// <summary>A study file warm-started from a study.json holding <paramref name="trials"/>, in a fresh folder.</summary>
    private static (string Text, string Folder) WarmStarted(params string[] trials)
    {
        var folder = Directory.CreateTempSubdirectory("tuning-warm-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "earlier"));
        File.WriteAllText(Path.Combine(folder, "earlier", "study.json"),
            $$"""{"id": "e", "name": "earlier", "status": "Succeeded", "objective": {"metric": "objective", "goal": "minimize"}, "trials": [{{string.Join(",\n", trials)}}]}""");
        return (Replace("parameters:\n", "warmStart: {from: earlier/study.json}\nparameters:\n"), folder);
    }

    private static StudyFileError WarmError(string fragment, params string[] trials)
    {
        var (text, folder) = WarmStarted(trials);
        var e = Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, folder));
        var error = e.Errors.FirstOrDefault(x => x.Message.Contains(fragment, StringComparison.Ordinal));
        Assert.True(error is not null, $"expected an error saying '{fragment}', got:\n{string.Join("\n", e.Errors)}");
        Assert.Equal("warmStart.from", error!.Path);
        // At the path in the file: line of warmStart, column of its value.
        var line = text.Split('\n').ToList().FindIndex(l => l.StartsWith("warmStart:", StringComparison.Ordinal)) + 1;
        Assert.Equal((line, "warmStart: {from: ".Length + 1), (error.Line, error.Column));
        Directory.Delete(folder, recursive: true);
        return error;
    }

    [Fact]
    public void A_warm_start_reads_the_earlier_studys_finished_trials_in_file_order()
    {
        var (text, folder) = WarmStarted(
            EarlierTrial,
            EarlierTrial.Replace("\"number\": 0", "\"number\": 1").Replace("\"Succeeded\"", "\"Failed\"").Replace("\"x1\": 1.5", "\"x1\": -2"),
            EarlierTrial.Replace("\"number\": 0", "\"number\": 2").Replace("\"Succeeded\"", "\"Running\""),
            EarlierTrial.Replace("\"number\": 0", "\"number\": 3").Replace("\"objective\": 2.5", "\"objective\": 0.5").Replace("\"adam\"", "\"sgd\""));
        var spec = StudyFile.Parse(text, folder);
        Assert.Equal(Path.Combine(folder, "earlier", "study.json"), spec.WarmStart!.From);
        var trials = spec.WarmStart.Trials!;
        Assert.Equal([0, 1, 3], trials.Select(t => t.Number));
        Assert.Equal([2.5, null, 0.5], trials.Select(t => t.Value));
        Assert.Equal(ParameterValue.Of(-2), trials[1].Parameters["x1"]);
        Assert.Equal(ParameterValue.Of("sgd"), trials[2].Parameters["optimizer"]);
        Assert.Equal(ParameterValue.Of(3), trials[0].Parameters["layers"]);

        // A running study's grains parse without reading it: the study keeps what it read when it was created.
        File.Delete(Path.Combine(folder, "earlier", "study.json"));
        Assert.Null(StudyFile.Parse(text, folder, readWarmStart: false).WarmStart!.Trials);
        Assert.Contains(Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, folder)).Errors, e => e.Path == "warmStart.from" && e.Message.Contains("no such file"));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_warm_start_from_another_space_is_refused_saying_how_it_differs()
    {
        WarmError("parameter 'x2' is missing from its trials (first: trial 0)", EarlierTrial.Replace(", \"x2\": 7.5", ""));
        WarmError("its trials have parameter 'depth', which this study does not", EarlierTrial.Replace("\"x2\": 7.5", "\"x2\": 7.5, \"depth\": 4"));
        WarmError("trial 0, parameter 'x1': 12 is out of range [-5, 10]", EarlierTrial.Replace("\"x1\": 1.5", "\"x1\": 12"));
        WarmError("trial 0, parameter 'optimizer': 'rmsprop' is not among the categories [sgd, adam]", EarlierTrial.Replace("\"adam\"", "\"rmsprop\""));
        WarmError("trial 0, parameter 'batch': 48 is not among the values", EarlierTrial.Replace("\"batch\": 32", "\"batch\": 48"));
        WarmError("trial 0, parameter 'layers': 'three' is not a number", EarlierTrial.Replace("\"layers\": 3", "\"layers\": \"three\""));
    }

    /// <summary>The one error of a study file warm-started from <paramref name="name"/>, a file holding <paramref name="bytes"/>.</summary>
    private static StudyFileError WarmFileError(string name, byte[] bytes)
    {
        var (text, folder) = WarmStarted(EarlierTrial);
        text = text.Replace("earlier/study.json", name);
        File.WriteAllBytes(Path.Combine(folder, name), bytes);
        var error = Assert.Single(Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, folder)).Errors);
        Assert.Equal("warmStart.from", error.Path);
        var line = text.Split('\n').ToList().FindIndex(l => l.StartsWith("warmStart:", StringComparison.Ordinal)) + 1;
        Assert.Equal((line, "warmStart: {from: ".Length + 1), (error.Line, error.Column));
        Directory.Delete(folder, recursive: true);
        return error;
    }

    [Fact]
    public void A_warm_start_from_a_file_that_is_not_json_says_where_in_its_own_words()
    {
        // A YAML file named by mistake: not the JSON parser's message, but what was expected and where it went wrong.
        Assert.Equal(
            "results.yaml is not a study.json (not JSON at line 1, column 1); warmStart reads the study.json that tuner run --out writes",
            WarmFileError("results.yaml", Encoding.UTF8.GetBytes("objective: {metric: objective}\ntrials: []\n")).Message);
        // Lines and columns count from 1, the column in characters however many bytes they take, after a byte order mark.
        var broken = "{\n  \"name\": \"Łódź\", oops}\n";
        var column = broken.Split('\n')[1].IndexOf("oops", StringComparison.Ordinal) + 1;
        Assert.Contains($"(not JSON at line 2, column {column})", WarmFileError("study.json", Encoding.UTF8.GetBytes(broken)).Message);
        Assert.Contains("(not JSON at line 1, column 2)", WarmFileError("study.json", [.. Encoding.UTF8.GetPreamble(), .. "{oops}"u8]).Message);
        Assert.Equal("study.json is empty; warmStart reads the study.json that tuner run --out writes", WarmFileError("study.json", []).Message);
    }

    [Fact]
    public void A_warm_start_that_is_no_study_json_or_has_nothing_to_learn_is_refused()
    {
        WarmError("no finished trial with a value of the objective metric 'objective'", EarlierTrial.Replace("\"objective\": 2.5", "\"loss\": 2.5"));
        var (text, folder) = WarmStarted(EarlierTrial);
        File.WriteAllText(Path.Combine(folder, "earlier", "study.json"), """{"studies": []}""");
        Assert.Contains(Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, folder)).Errors, e => e.Path == "warmStart.from" && e.Message.Contains("not a study.json"));
        File.WriteAllText(Path.Combine(folder, "earlier", "study.json"), "{\"trials\": [");
        Assert.Contains(Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, folder)).Errors, e => e.Path == "warmStart.from" && e.Message.Contains("not JSON"));
        Directory.Delete(folder, recursive: true);
        Single(Replace("parameters:\n", "warmStart: {path: x.json}\nparameters:\n"), "warmStart.path", "unknown field 'path'", at: "path: x");
    }
}
