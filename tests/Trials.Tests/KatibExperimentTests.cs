using Tuning.Algorithms.Space;
using Tuning.Trials.Studies;

namespace Tuning.Trials.Tests;

/// <summary>A Katib Experiment read as a study file: every field it maps, and one clear error, at the Katib field, for each it cannot.</summary>
public class KatibExperimentTests
{
    /// <summary>An Experiment with every field that maps, in Katib's own spelling (numbers as strings).</summary>
    private const string Valid = """
        apiVersion: kubeflow.org/v1beta1
        kind: Experiment
        metadata:
          namespace: kubeflow
          name: mnist-katib
        spec:
          objective:
            type: maximize
            goal: 0.99
            objectiveMetricName: accuracy
            additionalMetricNames:
              - loss
            metricStrategies:
              - name: accuracy
                value: latest
          algorithm:
            algorithmName: bayesianoptimization
            algorithmSettings:
              - name: random_state
                value: "11"
              - name: n_initial_points
                value: "4"
              - name: acq_func
                value: LCB
              - name: base_estimator
                value: GP
          earlyStopping:
            algorithmName: medianstop
            algorithmSettings:
              - name: min_trials_required
                value: "2"
              - name: start_step
                value: "4"
          parallelTrialCount: 4
          maxTrialCount: 12
          maxFailedTrialCount: 2
          resumePolicy: LongRunning
          metricsCollectorSpec:
            collector:
              kind: StdOut
          parameters:
            - name: lr
              parameterType: double
              feasibleSpace:
                min: "0.0001"
                max: "0.1"
                distribution: logUniform
            - name: num-layers
              parameterType: int
              feasibleSpace:
                min: "2"
                max: "8"
                step: "2"
            - name: batch
              parameterType: discrete
              feasibleSpace:
                list: ["16", "32", "64"]
            - name: optimizer
              parameterType: categorical
              feasibleSpace:
                list:
                  - sgd
                  - adam
          trialTemplate:
            primaryContainerName: training-container
            successCondition: status.conditions.#(type=="Complete")#|#(status=="True")#
            trialParameters:
              - name: learningRate
                description: Learning rate for the training model
                reference: lr
              - name: numberLayers
                description: Number of layers
                reference: num-layers
              - name: optimizer
                reference: optimizer
            trialSpec:
              apiVersion: batch/v1
              kind: Job
              spec:
                template:
                  spec:
                    containers:
                      - name: training-container
                        image: docker.io/kubeflowkatib/mxnet-mnist:latest
                        imagePullPolicy: Always
                        command:
                          - "python3"
                          - "/opt/mxnet-mnist/mnist.py"
                        args:
                          - "--lr=${trialParameters.learningRate}"
                          - "--num-layers=${trialParameters.numberLayers}"
                          - "--optimizer"
                          - "${trialParameters.optimizer}"
                        env:
                          - name: PYTHONUNBUFFERED
                            value: "1"
                        resources:
                          limits:
                            nvidia.com/gpu: 1
                            memory: 4Gi
                          requests:
                            cpu: 500m
                    restartPolicy: Never
        """;

    private static string Replace(string from, string to)
    {
        Assert.Contains(from, Valid);
        return Valid.Replace(from, to);
    }

    /// <summary>Valid with another <c>spec.algorithm</c>.</summary>
    private static string WithAlgorithm(string algorithm)
    {
        var start = Valid.IndexOf("  algorithm:\n", StringComparison.Ordinal);
        return Valid[..start] + algorithm.TrimEnd('\n') + "\n" + Valid[Valid.IndexOf("  earlyStopping:\n", StringComparison.Ordinal)..];
    }

    [Fact]
    public void Every_field_maps_to_the_study_it_amounts_to()
    {
        var spec = StudyFile.Parse(Valid, "/exp");
        Assert.Equal("mnist-katib", spec.Name);
        Assert.Equal(new ObjectiveSpec("accuracy", Goal.Maximize, 0.99, ["loss"]) with { AdditionalMetrics = spec.Objective.AdditionalMetrics }, spec.Objective);
        Assert.Equal(["loss"], spec.Objective.AdditionalMetrics);
        Assert.Equal("bayesian", spec.Algorithm.Name);
        Assert.Equal(11, spec.Algorithm.Seed);
        Assert.Equal(new Dictionary<string, string> { ["initialTrials"] = "4", ["acquisition"] = "ucb" }, spec.Algorithm.Settings);
        Assert.Equal("median", spec.EarlyStopping!.Name);
        Assert.Equal(new Dictionary<string, string> { ["minTrials"] = "2", ["startStep"] = "4" }, spec.EarlyStopping.Settings);
        Assert.Equal((12, 4, 2), (spec.Budget.MaxTrials, spec.Budget.ParallelTrials, spec.Budget.MaxFailedTrials));

        Assert.Equal(new DoubleParameter("lr", 0.0001, 0.1, Log: true), spec.Space.Parameters[0]);
        // Katib's names are kept as written, a '-' included.
        Assert.Equal(new IntParameter("num-layers", 2, 8, Step: 2), spec.Space.Parameters[1]);
        Assert.Equal([16.0, 32, 64], Assert.IsType<DiscreteParameter>(spec.Space.Parameters[2]).Values.ToArray());
        Assert.Equal(["sgd", "adam"], Assert.IsType<CategoricalParameter>(spec.Space.Parameters[3]).Values.ToArray());

        Assert.Equal("local", spec.Trial.Executor);
        var step = Assert.Single(spec.Trial.Steps);
        Assert.Equal("training-container", step.Name);
        Assert.Equal(["python3", "/opt/mxnet-mnist/mnist.py", "--lr=${params.lr}", "--num-layers=${params.num-layers}", "--optimizer", "${params.optimizer}"], step.Command);
        Assert.Equal("docker.io/kubeflowkatib/mxnet-mnist:latest", step.Image);
        Assert.Equal(new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" }, step.Environment);
        Assert.Equal(new ResourceSpec(1, 0.5, "4Gi"), step.Resources);
    }

    [Theory]
    [InlineData("random", "random", false)]
    [InlineData("grid", "grid", false)]
    [InlineData("sobol", "sobol", false)]
    [InlineData("tpe", "tpe", false)]
    [InlineData("multivariate-tpe", "tpe", true)]
    [InlineData("bayesianoptimization", "bayesian", false)]
    public void Each_katib_algorithm_maps_to_ours(string katib, string ours, bool multivariate)
    {
        var text = WithAlgorithm($"  algorithm:\n    algorithmName: {katib}\n")
            // Grid search needs a step on every double.
            .Replace("distribution: logUniform", "step: \"0.01\"");
        var spec = StudyFile.Parse(text, "/exp");
        Assert.Equal(ours, spec.Algorithm.Name);
        Assert.Equal(multivariate, spec.Algorithm.Settings.GetValueOrDefault("multivariate") == "true");
    }

    [Fact]
    public void Tpe_settings_map_to_ours()
    {
        var spec = StudyFile.Parse(WithAlgorithm("""
              algorithm:
                algorithmName: tpe
                algorithmSettings:
                  - name: n_startup_jobs
                    value: "5"
                  - name: n_EI_candidates
                    value: "30"
                  - name: prior_weight
                    value: "2"
            """), "/exp");
        Assert.Equal(new Dictionary<string, string> { ["startupTrials"] = "5", ["candidates"] = "30", ["priorWeight"] = "2" }, spec.Algorithm.Settings);
        Assert.Null(spec.Algorithm.Seed);
    }

    [Fact]
    public void A_file_collector_reads_the_file_the_command_names_in_its_outputs_once_the_command_ends()
    {
        var spec = StudyFile.Parse(Replace("""
                collector:
                  kind: StdOut
            """, """
                collector:
                  kind: File
                source:
                  fileSystemPath:
                    path: /var/log/katib/metrics.log
                    kind: File
                    format: TEXT
            """).Replace("\"--optimizer\"", "\"--log-path=/var/log/katib/metrics.log\""), "/exp");
        var command = spec.Trial.Steps[0].Command;
        Assert.Equal(["sh", "-c"], command.Take(2));
        Assert.Equal("${outputs}/metrics.log", command[3]);
        Assert.Equal(["python3", "/opt/mxnet-mnist/mnist.py"], command.Skip(4).Take(2));
        Assert.Contains("--log-path=${outputs}/metrics.log", command);
    }

    [Fact]
    public void The_converted_study_file_reads_as_the_same_study_and_names_the_executor_asked_for()
    {
        var text = StudyFile.ConvertKatib(Valid, "/exp", "container");
        Assert.DoesNotContain("apiVersion", text);
        var converted = StudyFile.Parse(text, "/exp");
        var original = StudyFile.Parse(Valid, "/exp");
        Assert.Equal("container", converted.Trial.Executor);
        Assert.Equal(original.Space.Parameters.Select(Describe), converted.Space.Parameters.Select(Describe));
        Assert.Equal(original.Trial.Steps[0].Command, converted.Trial.Steps[0].Command);
        Assert.Equal(original.Trial.Steps[0].Resources, converted.Trial.Steps[0].Resources);
        Assert.Equal((original.Name, original.Objective.Metric, original.Algorithm.Name, original.Algorithm.Seed, original.Budget),
            (converted.Name, converted.Objective.Metric, converted.Algorithm.Name, converted.Algorithm.Seed, converted.Budget));
        Assert.Equal(original.Algorithm.Settings, converted.Algorithm.Settings);
        Assert.Equal(original.EarlyStopping!.Settings, converted.EarlyStopping!.Settings);

        var notKatib = Assert.Throws<StudyFileException>(() => StudyFile.ConvertKatib(StudyFileTests.Valid, "/exp", "local"));
        Assert.Contains("not a Katib Experiment", notKatib.Errors[0].Message);
    }

    private static string Describe(Parameter parameter) => parameter switch
    {
        DiscreteParameter d => $"{d.Name}: {string.Join(", ", d.Values)}",
        CategoricalParameter c => $"{c.Name}: {string.Join(", ", c.Values)}",
        _ => parameter.ToString(),
    };

    /// <summary>What cannot run here: the Katib field's path, where it stands, and why.</summary>
    [Theory]
    [InlineData("algorithmName: bayesianoptimization", "algorithmName: pbt", "spec.algorithm.algorithmName", "pbt is not supported; supported: random, grid", "algorithmName: |pbt")]
    [InlineData("algorithmName: bayesianoptimization", "algorithmName: hyperband", "spec.algorithm.algorithmName", "hyperband is not supported", "algorithmName: |hyperband")]
    [InlineData("algorithmName: bayesianoptimization", "algorithmName: enas", "spec.algorithm.algorithmName", "enas is not supported", "algorithmName: |enas")]
    [InlineData("name: n_initial_points", "name: n_calls", "spec.algorithm.algorithmSettings[1].name", "n_calls is not supported for bayesianoptimization", "name: |n_calls")]
    [InlineData("value: LCB", "value: gp_hedge", "spec.algorithm.algorithmSettings[2].value", "acq_func gp_hedge is not supported", "value: |gp_hedge")]
    [InlineData("value: GP", "value: RF", "spec.algorithm.algorithmSettings[3].value", "base_estimator RF is not supported", "value: |RF")]
    [InlineData("algorithmName: medianstop", "algorithmName: earlystop", "spec.earlyStopping.algorithmName", "earlystop is not supported; supported: medianstop", "algorithmName: |earlystop")]
    [InlineData("value: latest", "value: max", "spec.objective.metricStrategies[0].value", "max is not supported", "value: |max")]
    [InlineData("kind: Job", "kind: TFJob", "spec.trialTemplate.trialSpec.kind", "is not supported; a trialSpec here is a batch/v1 Job", "kind: |TFJob")]
    [InlineData("kind: StdOut", "kind: TensorFlowEvent", "spec.metricsCollectorSpec.collector.kind", "TensorFlowEvent is not supported; supported: StdOut, File", "kind: |TensorFlowEvent")]
    [InlineData("distribution: logUniform", "distribution: normal", "spec.parameters[0].feasibleSpace.distribution", "normal is not supported", "distribution: |normal")]
    [InlineData("reference: num-layers", "reference: layers", "spec.trialTemplate.trialParameters[1].reference", "layers is not a parameter", "reference: |layers")]
    [InlineData("${trialParameters.optimizer}", "${trialParameters.solver}", "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].args[3]", "${trialParameters.solver} names no entry", "\"${trialParameters.solver}\"")]
    [InlineData("${trialParameters.optimizer}", "${trialSpec.Name}", "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].args[3]", "${trialSpec.Name} is not supported", "\"${trialSpec.Name}\"")]
    [InlineData("imagePullPolicy: Always", "volumeMounts: []", "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].volumeMounts", "unknown field 'volumeMounts' for the primary container", "volumeMounts")]
    [InlineData("primaryContainerName: training-container", "primaryContainerName: main", "spec.trialTemplate.trialSpec.spec.template.spec.containers", "no container named main", "- name: training-container")]
    [InlineData("resumePolicy: LongRunning", "nasConfig: {}", "spec.nasConfig", "neural architecture search (enas, darts) is not supported", "nasConfig: |{}")]
    [InlineData("apiVersion: kubeflow.org/v1beta1", "apiVersion: kubeflow.org/v1alpha3", "apiVersion", "kubeflow.org/v1alpha3 is not supported", "apiVersion: |kubeflow")]
    // The study file's own rules, reported at the Katib field they came from.
    [InlineData("min: \"2\"", "min: \"9\"", "spec.parameters[1].feasibleSpace.min", "min (9) must be at most max (8)", "min: |\"9\"")]
    [InlineData("type: maximize", "type: highest", "spec.objective.type", "must be minimize or maximize", "type: |highest")]
    [InlineData("maxTrialCount: 12", "maxTrialCount: none", "spec.maxTrialCount", "must be a whole number", "maxTrialCount: |none")]
    [InlineData("value: \"4\"\n      - name: acq_func", "value: \"-4\"\n      - name: acq_func", "spec.algorithm.algorithmSettings[1].value", "must be a whole number", "value: |\"-4\"")]
    [InlineData("name: mnist-katib", "name: MNIST", "metadata.name", "may hold only lower-case letters", "name: |MNIST")]
    [InlineData("training-container", "training container", "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].name", "is not a step name", "name: |training container")]
    public void What_cannot_run_here_is_one_error_at_the_katib_field(string from, string to, string path, string fragment, string at)
    {
        var text = Replace(from, to);
        var errors = Assert.Throws<StudyFileException>(() => StudyFile.Parse(text, "/exp")).Errors;
        var error = errors.FirstOrDefault(e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal));
        Assert.True(error is not null, $"expected an error at '{path}' saying '{fragment}', got:\n{string.Join("\n", errors)}");
        var cut = Math.Max(at.IndexOf('|'), 0);
        var offset = text.IndexOf(at.Replace("|", ""), StringComparison.Ordinal) + cut;
        var line = text[..offset].Count(c => c == '\n') + 1;
        var column = offset - text.LastIndexOf('\n', offset - 1);
        Assert.True((line, column) == (error!.Line, error.Column), $"'{error}' should point at line {line}, column {column}");
    }

    [Fact]
    public void An_error_reads_as_katib_users_expect()
    {
        var error = Assert.Single(Assert.Throws<StudyFileException>(() => StudyFile.Parse(Replace("algorithmName: bayesianoptimization", "algorithmName: pbt"), "/exp")).Errors);
        Assert.StartsWith("spec.algorithm.algorithmName (line 17, column 20): pbt is not supported; ", error.ToString());
    }
}
