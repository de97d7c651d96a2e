using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Tuning.Trials.Studies;

/// <summary>
/// A Katib Experiment (<c>kubeflow.org/v1beta1</c>) read as a study file. It is translated into the study file's own
/// document, whose values are the Experiment's nodes (so an error keeps their line and column), and the study file's
/// reader validates that document as it validates any study file; each study-file field path is recorded with the
/// Katib field it came from, so every error names the field the user wrote.
/// </summary>
internal sealed partial class KatibExperiment
{
    public const string ApiVersion = "kubeflow.org/v1beta1";

    /// <summary>Katib's name for the primary container where the trial template names none.</summary>
    private const string DefaultPrimaryContainer = "training-container";

    private const string Supported = "random, grid, bayesianoptimization, tpe, multivariate-tpe, sobol";

    /// <summary>Katib's algorithms that have one here, with the settings (Katib's name, ours) that map.</summary>
    private static readonly Dictionary<string, (string Name, Dictionary<string, string> Settings)> Algorithms = new(StringComparer.Ordinal)
    {
        ["random"] = ("random", new() { ["random_state"] = "seed" }),
        ["grid"] = ("grid", new()),
        ["sobol"] = ("sobol", new() { ["random_state"] = "seed" }),
        ["bayesianoptimization"] = ("bayesian", new() { ["random_state"] = "seed", ["n_initial_points"] = "initialTrials", ["acq_func"] = "acquisition", ["base_estimator"] = "" }),
        ["tpe"] = ("tpe", new() { ["random_state"] = "seed", ["n_startup_jobs"] = "startupTrials", ["n_EI_candidates"] = "candidates", ["prior_weight"] = "priorWeight" }),
        ["multivariate-tpe"] = ("tpe", new() { ["random_state"] = "seed", ["n_startup_trials"] = "startupTrials", ["n_ei_candidates"] = "candidates" }),
    };

    /// <summary>skopt's acquisition functions that have one here; gp_hedge and PI do not.</summary>
    private static readonly Dictionary<string, string> Acquisitions = new(StringComparer.Ordinal) { ["EI"] = "logei", ["LCB"] = "ucb" };

    private static readonly Dictionary<string, string> MedianStopSettings = new(StringComparer.Ordinal)
    {
        ["min_trials_required"] = "minTrials",
        ["start_step"] = "startStep",
    };

    [GeneratedRegex(@"\$\{([^}]*)\}")] private static partial Regex Placeholder();

    private readonly YamlReader _r;
    private readonly List<(string Study, string Katib)> _paths = [];

    private KatibExperiment(YamlReader reader) => _r = reader;

    /// <summary>Whether a document is a Kubeflow resource (it names a kubeflow.org apiVersion and the kind Experiment).</summary>
    public static bool Is(YamlNode root) =>
        root is YamlMappingNode map
        && Scalar(map, "kind") == "Experiment"
        && Scalar(map, "apiVersion")?.StartsWith("kubeflow.org/", StringComparison.Ordinal) == true;

    /// <summary>
    /// The study file the Experiment amounts to, running on <paramref name="executor"/>, and a translation of its field
    /// paths back to the Experiment's; null (with the errors recorded) where the Experiment asks for what is not here.
    /// </summary>
    public static (YamlMappingNode? Study, Func<string, string> KatibPath) Translate(YamlReader reader, YamlMappingNode root, string executor)
    {
        var katib = new KatibExperiment(reader);
        var study = katib.Read(root, executor);
        return (study, katib.KatibPath);
    }

    /// <summary>The Katib field a study-file path came from: the longest recorded prefix, replaced.</summary>
    private string KatibPath(string path)
    {
        var best = ("", "");
        foreach (var (study, katib) in _paths)
            if (study.Length > best.Item1.Length && path.StartsWith(study, StringComparison.Ordinal)
                && (path.Length == study.Length || path[study.Length] is '.' or '['))
                best = (study, katib);
        return best.Item1.Length == 0 ? path : best.Item2 + path[best.Item1.Length..];
    }

    private YamlMappingNode? Read(YamlMappingNode root, string executor)
    {
        var top = _r.Mapping(root, "", ["apiVersion", "kind", "metadata", "spec"], "a Katib Experiment");
        if (top is null) return null;
        if (Scalar(top, "apiVersion") is { } version && version != ApiVersion)
            _r.Error("apiVersion", YamlReader.Field(top, "apiVersion"), $"{version} is not supported; a Katib Experiment here is {ApiVersion}");
        var metadata = _r.Mapping(_r.Required(top, "", "metadata", "the Experiment's metadata (its name)"), "metadata", ["name", "namespace", "labels", "annotations"]);
        var spec = _r.Mapping(_r.Required(top, "", "spec", "the Experiment's spec"), "spec",
            ["parameters", "objective", "algorithm", "earlyStopping", "parallelTrialCount", "maxTrialCount", "maxFailedTrialCount",
             "metricsCollectorSpec", "trialTemplate", "resumePolicy", "nasConfig"], "an Experiment's spec");
        if (metadata is null || spec is null) return null;
        if (YamlReader.Field(spec, "nasConfig") is { } nas)
            _r.Error("spec.nasConfig", nas, "neural architecture search (enas, darts) is not supported; search parameters instead");

        var study = _r.Placed(new YamlMappingNode(), root);
        Add(study, "name", YamlReader.Field(metadata, "name"), "metadata.name", "name");
        var parameters = Search(study, spec);
        var trial = Trial(spec, metadata, executor, parameters);
        if (trial is not null) study.Add("trial", trial);
        return study;
    }

    /// <summary>
    /// Kale's <c>katib_metadata</c>, an Experiment's spec without its trial template (the notebook is the trial), as
    /// the study file's fields but <c>trial</c>, named <paramref name="name"/> (Kale's experiment_name); its paths are
    /// those of an Experiment's spec (<c>spec.parameters[0]</c>), for the caller to place.
    /// </summary>
    public static (YamlMappingNode? Study, Func<string, string> KatibPath) TranslateSearch(YamlReader reader, YamlMappingNode spec, YamlScalarNode name)
    {
        var katib = new KatibExperiment(reader);
        if (reader.Mapping(spec, "spec", ["parameters", "objective", "algorithm", "earlyStopping", "parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"], "Kale's katib_metadata") is null)
            return (null, katib.KatibPath);
        var study = reader.Placed(new YamlMappingNode(), spec);
        study.Add("name", name);
        katib.Search(study, spec);
        return (study, katib.KatibPath);
    }

    /// <summary>Adds the search (objective, algorithm, early stopping, budget, parameters) of an Experiment's spec; gives the parameters.</summary>
    private YamlSequenceNode? Search(YamlMappingNode study, YamlMappingNode spec)
    {
        var objective = Objective(spec);
        if (objective is not null) study.Add("objective", objective);
        var algorithm = Algorithm(spec);
        if (algorithm is not null) study.Add("algorithm", algorithm);
        var earlyStopping = EarlyStopping(spec);
        if (earlyStopping is not null) study.Add("earlyStopping", earlyStopping);
        study.Add("budget", Budget(spec));
        var parameters = Parameters(spec);
        if (parameters is not null) study.Add("parameters", parameters);
        return parameters;
    }

    private YamlMappingNode? Objective(YamlMappingNode spec)
    {
        const string path = "spec.objective";
        var map = _r.Mapping(_r.Required(spec, "spec", "objective", "the objective (type and objectiveMetricName)"), path,
            ["type", "goal", "objectiveMetricName", "additionalMetricNames", "metricStrategies"], "an objective");
        if (map is null) return null;
        foreach (var (item, itemPath) in _r.Sequence(YamlReader.Field(map, "metricStrategies"), path + ".metricStrategies") ?? [])
        {
            var strategy = _r.Mapping(item, itemPath, ["name", "value"]);
            if (_r.String(YamlReader.Field(strategy, "value"), itemPath + ".value") is { } value and not "latest")
                _r.Error(itemPath + ".value", YamlReader.Field(strategy, "value"),
                    $"{value} is not supported; a trial's value here is the last one it reports (latest)");
        }
        _paths.Add(("objective", path));
        var objective = _r.Placed(new YamlMappingNode(), map);
        Add(objective, "metric", YamlReader.Field(map, "objectiveMetricName"), path + ".objectiveMetricName", "objective.metric");
        Add(objective, "goal", YamlReader.Field(map, "type"), path + ".type", "objective.goal");
        Add(objective, "target", YamlReader.Field(map, "goal"), path + ".goal", "objective.target");
        Add(objective, "additionalMetrics", YamlReader.Field(map, "additionalMetricNames"), path + ".additionalMetricNames", "objective.additionalMetrics");
        return objective;
    }

    private YamlMappingNode? Algorithm(YamlMappingNode spec)
    {
        const string path = "spec.algorithm";
        var map = _r.Mapping(_r.Required(spec, "spec", "algorithm", "the algorithm (algorithmName)"), path, ["algorithmName", "algorithmSettings"], "an algorithm");
        if (map is null) return null;
        var nameNode = YamlReader.Field(map, "algorithmName");
        var name = _r.String(_r.Required(map, path, "algorithmName", Supported), path + ".algorithmName");
        if (name is null) return null;
        if (!Algorithms.TryGetValue(name, out var ours))
        {
            _r.Error(path + ".algorithmName", nameNode, $"{name} is not supported; supported: {Supported}");
            return null;
        }
        _paths.Add(("algorithm", path));
        _paths.Add(("algorithm.name", path + ".algorithmName"));
        var algorithm = _r.Placed(new YamlMappingNode(), map);
        algorithm.Add("name", _r.Placed(new YamlScalarNode(ours.Name), nameNode!));
        var settings = _r.Placed(new YamlMappingNode(), map);
        if (name == "multivariate-tpe") settings.Add("multivariate", _r.Placed(new YamlScalarNode("true"), nameNode!));
        foreach (var (setting, value, valuePath) in Settings(map, path, name, ours.Settings))
        {
            if (setting == "seed")
            {
                algorithm.Add("seed", value);
                _paths.Add(("algorithm.seed", valuePath));
            }
            else if (setting == "acquisition")
            {
                var text = _r.String(value, valuePath);
                if (text is not null && !Acquisitions.ContainsKey(text))
                    _r.Error(valuePath, value, $"acq_func {text} is not supported; supported: {string.Join(", ", Acquisitions.Keys)}");
                else if (text is not null)
                    settings.Add(setting, _r.Placed(new YamlScalarNode(Acquisitions[text]), value));
            }
            else if (setting.Length == 0)
            {
                // base_estimator: the model here is a Gaussian process, what skopt's GP is; no other is.
                if (_r.String(value, valuePath) is { } estimator and not "GP")
                    _r.Error(valuePath, value, $"base_estimator {estimator} is not supported; the model here is a Gaussian process (GP)");
            }
            else
            {
                settings.Add(setting, value);
                _paths.Add(($"algorithm.settings.{setting}", valuePath));
            }
        }
        algorithm.Add("settings", settings);
        return algorithm;
    }

    /// <summary>A Katib settings list (<c>[{name, value}]</c>): each setting that maps, with its value node and path.</summary>
    private List<(string Ours, YamlNode Value, string Path)> Settings(YamlMappingNode map, string path, string owner, Dictionary<string, string> known)
    {
        var result = new List<(string, YamlNode, string)>();
        foreach (var (item, itemPath) in _r.Sequence(YamlReader.Field(map, "algorithmSettings"), path + ".algorithmSettings") ?? [])
        {
            var setting = _r.Mapping(item, itemPath, ["name", "value"], "a setting", required: "a setting: a mapping with name and value");
            if (setting is null) continue;
            var name = _r.String(_r.Required(setting, itemPath, "name", "the setting's name"), itemPath + ".name");
            var value = _r.Required(setting, itemPath, "value", "the setting's value");
            if (name is null || value is null) continue;
            if (known.TryGetValue(name, out var ours)) result.Add((ours, value, itemPath + ".value"));
            else
                _r.Error(itemPath + ".name", YamlReader.Field(setting, "name"), known.Count == 0
                    ? $"{owner} takes no settings here"
                    : $"{name} is not supported for {owner}; supported: {string.Join(", ", known.Keys)}");
        }
        return result;
    }

    private YamlMappingNode? EarlyStopping(YamlMappingNode spec)
    {
        const string path = "spec.earlyStopping";
        var map = _r.Mapping(YamlReader.Field(spec, "earlyStopping"), path, ["algorithmName", "algorithmSettings"], "early stopping");
        if (map is null) return null;
        var nameNode = YamlReader.Field(map, "algorithmName");
        var name = _r.String(_r.Required(map, path, "algorithmName", "medianstop"), path + ".algorithmName");
        if (name is null) return null;
        if (name != "medianstop")
        {
            _r.Error(path + ".algorithmName", nameNode, $"{name} is not supported; supported: medianstop");
            return null;
        }
        _paths.Add(("earlyStopping", path));
        var rule = _r.Placed(new YamlMappingNode(), map);
        rule.Add("name", _r.Placed(new YamlScalarNode("median"), nameNode!));
        var settings = _r.Placed(new YamlMappingNode(), map);
        foreach (var (setting, value, valuePath) in Settings(map, path, name, MedianStopSettings))
        {
            settings.Add(setting, value);
            _paths.Add(($"earlyStopping.settings.{setting}", valuePath));
        }
        rule.Add("settings", settings);
        return rule;
    }

    private YamlMappingNode Budget(YamlMappingNode spec)
    {
        _paths.Add(("budget", "spec"));
        var budget = _r.Placed(new YamlMappingNode(), spec);
        Add(budget, "maxTrials", YamlReader.Field(spec, "maxTrialCount"), "spec.maxTrialCount", "budget.maxTrials");
        // Katib runs three trials at once where the Experiment does not say.
        Add(budget, "parallelTrials", YamlReader.Field(spec, "parallelTrialCount") ?? _r.Placed(new YamlScalarNode("3"), spec), "spec.parallelTrialCount", "budget.parallelTrials");
        Add(budget, "maxFailedTrials", YamlReader.Field(spec, "maxFailedTrialCount"), "spec.maxFailedTrialCount", "budget.maxFailedTrials");
        return budget;
    }

    private YamlSequenceNode? Parameters(YamlMappingNode spec)
    {
        const string path = "spec.parameters";
        var items = _r.Sequence(_r.Required(spec, "spec", "parameters", "the parameters to search"), path);
        if (items is null) return null;
        _paths.Add(("parameters", path));
        var parameters = _r.Placed(new YamlSequenceNode(), YamlReader.Field(spec, "parameters")!);
        for (var i = 0; i < items.Count; i++)
        {
            var (item, itemPath) = items[i];
            _r.NameEntry(itemPath, item);
            var map = _r.Mapping(item, itemPath, ["name", "parameterType", "feasibleSpace"], "a parameter",
                required: "a parameter: a mapping with name, parameterType and feasibleSpace");
            if (map is null) continue;
            var type = Scalar(map, "parameterType");
            var spacePath = itemPath + ".feasibleSpace";
            var space = _r.Mapping(_r.Required(map, itemPath, "feasibleSpace", "the values the parameter takes"), spacePath,
                type is "discrete" or "categorical" ? ["list"] : ["min", "max", "step", "distribution"], $"a {type} parameter");
            var parameter = _r.Placed(new YamlMappingNode(), item);
            _paths.Add(($"parameters[{i}]", itemPath));
            Add(parameter, "name", YamlReader.Field(map, "name"), itemPath + ".name", $"parameters[{i}].name");
            Add(parameter, "type", YamlReader.Field(map, "parameterType"), itemPath + ".parameterType", $"parameters[{i}].type");
            foreach (var (katib, ours) in new[] { ("min", "min"), ("max", "max"), ("step", "step"), ("list", "values") })
                Add(parameter, ours, YamlReader.Field(space, katib), $"{spacePath}.{katib}", $"parameters[{i}].{ours}");
            var distribution = YamlReader.Field(space, "distribution");
            switch (_r.String(distribution, spacePath + ".distribution"))
            {
                case null or "uniform":
                    break;
                case "logUniform":
                    Add(parameter, "scale", _r.Placed(new YamlScalarNode("log"), distribution!), spacePath + ".distribution", $"parameters[{i}].scale");
                    break;
                case var other:
                    _r.Error(spacePath + ".distribution", distribution, $"{other} is not supported; supported: uniform, logUniform");
                    break;
            }
            parameters.Add(parameter);
        }
        return parameters;
    }

    private YamlMappingNode? Trial(YamlMappingNode spec, YamlMappingNode metadata, string executor, YamlSequenceNode? parameters)
    {
        const string path = "spec.trialTemplate";
        var template = _r.Mapping(_r.Required(spec, "spec", "trialTemplate", "the trial template (a batch/v1 Job)"), path,
            ["primaryContainerName", "trialParameters", "trialSpec", "configMap", "retain", "successCondition", "failureCondition", "primaryPodLabels"],
            "a trial template");
        if (template is null) return null;
        if (YamlReader.Field(template, "configMap") is { } configMap)
            _r.Error(path + ".configMap", configMap, "a template in a ConfigMap is not supported; write the Job under trialSpec");
        var references = TrialParameters(template, path, parameters);

        var jobPath = path + ".trialSpec";
        var job = _r.Mapping(_r.Required(template, path, "trialSpec", "the trial's batch/v1 Job"), jobPath,
            ["apiVersion", "kind", "metadata", "spec"], "a Job");
        if (job is null) return null;
        var kind = Scalar(job, "kind");
        var apiVersion = Scalar(job, "apiVersion");
        if (kind != "Job" || apiVersion != "batch/v1")
        {
            _r.Error(jobPath + (kind != "Job" ? ".kind" : ".apiVersion"), YamlReader.Field(job, kind != "Job" ? "kind" : "apiVersion") ?? job,
                $"{apiVersion}/{kind} is not supported; a trialSpec here is a batch/v1 Job (a TFJob, PyTorchJob or MPIJob is not)");
            return null;
        }
        var podPath = jobPath + ".spec.template.spec";
        var pod = YamlReader.Field(YamlReader.Field(YamlReader.Field(job, "spec") as YamlMappingNode, "template") as YamlMappingNode, "spec") as YamlMappingNode;
        var containers = _r.Sequence(_r.Required(pod, podPath, "containers", "the Job's containers"), podPath + ".containers");
        if (pod is null)
        {
            _r.Error(podPath, job, "missing: the Job's pod template (spec.template.spec with its containers)");
            return null;
        }
        if (containers is null) return null;
        var primary = Scalar(template, "primaryContainerName") ?? DefaultPrimaryContainer;
        var index = containers.ToList().FindIndex(c => c.Node is YamlMappingNode m && Scalar(m, "name") == primary);
        if (index < 0)
        {
            _r.Error(podPath + ".containers", YamlReader.Field(pod, "containers"), $"no container named {primary} (the primaryContainerName)");
            return null;
        }
        if (containers.Count > 1)
            _r.Error(podPath + ".containers", YamlReader.Field(pod, "containers"), $"only the primary container ({primary}) runs here; remove the others");
        var step = Step(containers[index].Node, containers[index].Path, references, MetricsFile(spec));
        if (step is null) return null;

        _paths.Add(("trial", path));
        var trial = _r.Placed(new YamlMappingNode(), template);
        trial.Add("executor", _r.Placed(new YamlScalarNode(executor), template));
        if (executor == "kubernetes" && YamlReader.Field(metadata, "namespace") is { } ns)
        {
            var kubernetes = _r.Placed(new YamlMappingNode(), ns);
            kubernetes.Add("namespace", ns);
            trial.Add("kubernetes", kubernetes);
            _paths.Add(("trial.kubernetes.namespace", "metadata.namespace"));
        }
        trial.Add("steps", new YamlSequenceNode(step));
        return trial;
    }

    /// <summary>The trial parameters: each <c>${trialParameters.NAME}</c> and the parameter its reference names.</summary>
    private Dictionary<string, string> TrialParameters(YamlMappingNode template, string path, YamlSequenceNode? parameters)
    {
        var declared = parameters?.Children.OfType<YamlMappingNode>().Select(p => Scalar(p, "name")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var references = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (item, itemPath) in _r.Sequence(YamlReader.Field(template, "trialParameters"), path + ".trialParameters") ?? [])
        {
            var map = _r.Mapping(item, itemPath, ["name", "description", "reference"], "a trial parameter", required: "a trial parameter: name and reference");
            if (map is null) continue;
            var name = _r.String(_r.Required(map, itemPath, "name", "the name ${trialParameters.NAME} uses"), itemPath + ".name");
            var reference = _r.String(_r.Required(map, itemPath, "reference", "the parameter it stands for"), itemPath + ".reference");
            if (name is null || reference is null) continue;
            if (declared is not null && !declared.Contains(reference))
                _r.Error(itemPath + ".reference", YamlReader.Field(map, "reference"),
                    $"{reference} is not a parameter of spec.parameters{(reference.StartsWith("${", StringComparison.Ordinal) ? " (trial metadata references are not supported)" : "")}");
            else references[name] = reference;
        }
        return references;
    }

    /// <summary>
    /// The file a File metrics collector reads (<c>name=value</c> lines, Katib's TEXT format); null for StdOut, whose
    /// lines are this tuner's own metrics.
    /// </summary>
    private string? MetricsFile(YamlMappingNode spec)
    {
        const string path = "spec.metricsCollectorSpec";
        var map = _r.Mapping(YamlReader.Field(spec, "metricsCollectorSpec"), path, ["collector", "source"], "a metrics collector");
        var collector = _r.Mapping(YamlReader.Field(map, "collector"), path + ".collector", ["kind"], "a collector");
        var kindNode = YamlReader.Field(collector, "kind");
        switch (_r.String(kindNode, path + ".collector.kind"))
        {
            case null or "StdOut":
                return null;
            case "File":
                var source = _r.Mapping(_r.Required(map, path, "source", "the file (source.fileSystemPath)"), path + ".source", ["fileSystemPath"], "a File collector's source");
                var filePath = path + ".source.fileSystemPath";
                var file = _r.Mapping(_r.Required(source, path + ".source", "fileSystemPath", "the file's path"), filePath, ["path", "kind", "format"], "a file");
                if (_r.String(YamlReader.Field(file, "kind"), filePath + ".kind") is { } kind and not "File")
                    _r.Error(filePath + ".kind", YamlReader.Field(file, "kind"), $"{kind} is not supported; the collector reads one File");
                if (_r.String(YamlReader.Field(file, "format"), filePath + ".format") is { } format and not "TEXT")
                    _r.Error(filePath + ".format", YamlReader.Field(file, "format"), $"{format} is not supported; the file holds name=value lines (TEXT)");
                return _r.String(_r.Required(file, filePath, "path", "the file the trial writes its metrics to"), filePath + ".path");
            case var other:
                _r.Error(path + ".collector.kind", kindNode, $"{other} is not supported; supported: StdOut, File");
                return null;
        }
    }

    /// <summary>
    /// The step the primary container amounts to. With a File metrics collector, the file's path in the command becomes
    /// a file in the step's outputs, printed when the command ends, so its <c>name=value</c> lines are read as any step's.
    /// </summary>
    private YamlMappingNode? Step(YamlNode node, string path, IReadOnlyDictionary<string, string> references, string? metricsFile)
    {
        var container = _r.Mapping(node, path, ["name", "image", "command", "args", "env", "resources", "imagePullPolicy"], "the primary container");
        if (container is null) return null;
        var command = new YamlSequenceNode();
        var commandPath = new List<string>();
        foreach (var field in new[] { "command", "args" })
            foreach (var (item, itemPath) in _r.Sequence(YamlReader.Field(container, field), $"{path}.{field}") ?? [])
            {
                var text = _r.String(item, itemPath);
                if (text is null) continue;
                var resolved = Placeholder().Replace(text, m =>
                {
                    var name = m.Groups[1].Value;
                    if (name.StartsWith("trialParameters.", StringComparison.Ordinal) && references.TryGetValue(name[16..], out var parameter))
                        return $"${{params.{parameter}}}";
                    _r.Error(itemPath, item, name.StartsWith("trialParameters.", StringComparison.Ordinal)
                        ? $"${{{name}}} names no entry of spec.trialTemplate.trialParameters"
                        : $"${{{name}}} is not supported; a trial template here substitutes ${{trialParameters.NAME}} only");
                    return m.Value;
                });
                if (metricsFile is not null) resolved = resolved.Replace(metricsFile, MetricsOutput(metricsFile), StringComparison.Ordinal);
                command.Add(resolved == text ? item : _r.Placed(new YamlScalarNode(resolved), item));
                commandPath.Add(itemPath);
            }
        if (command.Children.Count == 0)
        {
            _r.Error(path + ".command", container, "missing: the command (and args) to run; an image's own entrypoint is not run here");
            return null;
        }
        const string stepPath = "trial.steps[0]";
        _paths.Add((stepPath, path));
        if (metricsFile is not null)
        {
            var at = command.Children[0];
            string[] wrapper = ["sh", "-c", "\"$@\"; status=$?; cat \"$0\" 2>/dev/null; exit $status", MetricsOutput(metricsFile)];
            for (var w = wrapper.Length - 1; w >= 0; w--) command.Children.Insert(0, _r.Placed(new YamlScalarNode(wrapper[w]), at));
        }
        var offset = command.Children.Count - commandPath.Count;
        for (var a = 0; a < commandPath.Count; a++) _paths.Add(($"{stepPath}.command[{a + offset}]", commandPath[a]));
        var step = _r.Placed(new YamlMappingNode(), node);
        Add(step, "name", YamlReader.Field(container, "name"), path + ".name", stepPath + ".name");
        step.Add("command", _r.Placed(command, YamlReader.Field(container, "command") ?? YamlReader.Field(container, "args")!));
        Add(step, "image", YamlReader.Field(container, "image"), path + ".image", stepPath + ".image");
        var env = Environment(container, path);
        if (env is not null) step.Add("env", env);
        var resources = Resources(container, path);
        if (resources is not null) step.Add("resources", resources);
        return step;
    }

    private YamlMappingNode? Environment(YamlMappingNode container, string path)
    {
        var items = _r.Sequence(YamlReader.Field(container, "env"), path + ".env");
        if (items is null) return null;
        var env = _r.Placed(new YamlMappingNode(), YamlReader.Field(container, "env")!);
        foreach (var (item, itemPath) in items)
        {
            var map = _r.Mapping(item, itemPath, ["name", "value"], "an environment variable (valueFrom is not supported)", required: "name and value");
            var name = _r.String(_r.Required(map, itemPath, "name", "the variable's name"), itemPath + ".name");
            var value = YamlReader.Field(map, "value") ?? _r.Placed(new YamlScalarNode(""), item);
            if (name is null) continue;
            env.Add(name, value);
            _paths.Add(($"trial.steps[0].env.{name}", itemPath + ".value"));
        }
        return env;
    }

    private YamlMappingNode? Resources(YamlMappingNode container, string path)
    {
        var map = _r.Mapping(YamlReader.Field(container, "resources"), path + ".resources", ["limits", "requests"], "resources");
        if (map is null) return null;
        var resources = _r.Placed(new YamlMappingNode(), map);
        // Limits are what a step is held to; a request counts where no limit is set.
        foreach (var kind in new[] { "limits", "requests" })
        {
            var kindPath = $"{path}.resources.{kind}";
            var amounts = _r.Mapping(YamlReader.Field(map, kind), kindPath, ["nvidia.com/gpu", "cpu", "memory"], "resources");
            foreach (var (katib, ours) in new[] { ("nvidia.com/gpu", "gpu"), ("cpu", "cpu"), ("memory", "memory") })
            {
                var value = YamlReader.Field(amounts, katib);
                if (value is null || resources.Children.ContainsKey(ours)) continue;
                // Kubernetes writes cores in thousandths as 500m; a step here counts cores.
                if (ours == "cpu" && _r.String(value, $"{kindPath}.{katib}") is { } cpu && cpu.EndsWith('m')
                    && double.TryParse(cpu[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var milli))
                    value = _r.Placed(new YamlScalarNode((milli / 1000).ToString("R", CultureInfo.InvariantCulture)), value);
                Add(resources, ours, value, $"{kindPath}.{katib}", $"trial.steps[0].resources.{ours}");
            }
        }
        return resources;
    }

    private static string MetricsOutput(string metricsFile) => "${outputs}/" + Path.GetFileName(metricsFile);

    /// <summary>Adds a field taken from the Experiment, recording where each came from; nothing where the Experiment has none.</summary>
    private void Add(YamlMappingNode map, string key, YamlNode? value, string katibPath, string studyPath)
    {
        if (value is null) return;
        map.Add(key, value);
        _paths.Add((studyPath, katibPath));
    }

    private static string? Scalar(YamlMappingNode? map, string key) => (YamlReader.Field(map, key) as YamlScalarNode)?.Value;
}
