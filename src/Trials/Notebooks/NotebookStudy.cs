using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tuning.Trials.Studies;
using YamlDotNet.RepresentationModel;

namespace Tuning.Trials.Notebooks;

/// <summary>
/// A Jupyter notebook tagged as Kale tags it, read as the study it amounts to: the study (space, objective,
/// algorithm, budget) from its metadata (our <c>tuning</c> key, or Kale's <c>kubeflow_notebook.katib_metadata</c>), and a pipeline whose steps are the notebook's steps,
/// each run by <c>notebook_runner.py</c> under Debian's python3. The tags and the step graph are read here; what each
/// step reads and writes is found by the runner's <c>analyse</c> mode (Python's own parser), once per notebook.
/// The study is kept as the study file this makes (JSON), so a study re-reads it as any study file, with no Python.
/// </summary>
public static partial class NotebookStudy
{
    /// <summary>The Python that Debian's python3-nbclient, python3-ipykernel and python3-dill are installed for.</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The step that prints the pipeline-metrics variables, after every other step.</summary>
    public const string MetricsStep = "pipeline_metrics";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")] private static partial Regex StepName();

    /// <summary>The runner's source, passed to python3 -c: it is in every step's command, so in every cache key.</summary>
    public static string Runner { get; } = ReadRunner();

    private static string ReadRunner()
    {
        using var stream = typeof(NotebookStudy).Assembly.GetManifestResourceStream("Tuning.Trials.Notebooks.notebook_runner.py")!;
        return new StreamReader(stream).ReadToEnd();
    }

    public static bool IsNotebook(string path) => path.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loads a notebook as a study: the spec and the study file text it amounts to (what the study keeps).</summary>
    public static (StudySpec Spec, string Text) Load(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var text = ToStudyFile(StudyFile.ReadText(path), directory);
        return (StudyFile.Parse(text, directory), text);
    }

    private static StudyFileException Problem(string message) => new([new StudyFileError("", 0, 0, message)]);

    private sealed record Cell(int Index, string Source, IReadOnlyList<string> Tags)
    {
        public string Where => $"cell {Index} ({FirstLine})";

        private string FirstLine => Source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) is { } line ? line[..Math.Min(line.Length, 60)] : "";

        public object Json => new { index = Index, source = Source, tags = Tags };
    }

    private sealed class Step(string name, Cell first)
    {
        public string Name { get; } = name;
        public Cell First { get; } = first;
        public List<Cell> Cells { get; } = [];
        public List<string> Prev { get; } = [];
        public double Gpu { get; set; }
        public string? Image { get; set; }
        public bool Cache { get; set; } = true;
    }

    /// <summary>The study file (JSON) a notebook's text amounts to; throws <see cref="StudyFileException"/> naming the cell or field.</summary>
    public static string ToStudyFile(string text, string directory)
    {
        var notebook = Parse(text);
        TuningFields? study = null;
        var pipeline = Pipeline(notebook, (parameters, problems) => (study = Tuning(notebook, parameters, problems)).Searched);
        study!.Fields["trial"] = new JsonObject { ["steps"] = pipeline };
        var studyFile = study.Fields.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        try
        {
            StudyFile.Parse(studyFile, directory);
        }
        catch (StudyFileException e)
        {
            // Lines of the study file made here mean nothing to the user: the field is under the notebook's metadata.
            throw new StudyFileException([.. e.Errors.Select(error => new StudyFileError(
                error.Path.StartsWith("trial", StringComparison.Ordinal) ? error.Path : study.Place(error.Path), 0, 0, error.Message))]);
        }
        return studyFile;
    }

    /// <summary>
    /// The steps (as a study file writes them, JSON) of a notebook that a study file names (<c>trial: {notebook: FILE}</c>)
    /// and whose space holds <paramref name="searched"/>; throws <see cref="StudyFileException"/> naming the cell.
    /// </summary>
    internal static JsonArray StepsOf(string text, IReadOnlySet<string> searched) =>
        Pipeline(Parse(text), (parameters, problems) =>
        {
            var missing = searched.Where(p => !parameters.ContainsKey(p)).ToList();
            if (missing.Count > 0)
                problems.Insert(0, $"{string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} searched (parameters) but not assigned in the notebook's pipeline-parameters cell");
            return searched;
        });

    private static JsonObject Parse(string text)
    {
        JsonObject notebook;
        try
        {
            notebook = JsonNode.Parse(text) as JsonObject ?? throw Problem("not a notebook: the JSON is not an object with cells");
        }
        catch (JsonException e)
        {
            throw Problem($"not a notebook: not JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}): {e.Message.Split(" Path:")[0]}");
        }
        if (notebook["cells"] is not JsonArray) throw Problem("not a notebook: no cells list");
        return notebook;
    }

    /// <summary>
    /// The notebook's steps as a study file writes them. <paramref name="searchedOf"/> is given the parameters cell's
    /// assignments and the problems found so far (to add its own), and gives the parameters the study searches.
    /// </summary>
    private static JsonArray Pipeline(JsonObject notebook, Func<JsonObject, List<string>, IReadOnlySet<string>> searchedOf)
    {
        var cells = notebook["cells"]!.AsArray();

        var errors = new List<string>();
        var imports = new List<Cell>();
        var functions = new List<Cell>();
        var parameters = new List<Cell>();
        Cell? metrics = null;
        var steps = new List<Step>();
        Step? current = null;
        for (var i = 0; i < cells.Count; i++)
        {
            if (cells[i] is not JsonObject cell || (string?)cell["cell_type"] != "code") continue;
            var source = cell["source"] switch
            {
                JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
                JsonValue value => (string?)value ?? "",
                _ => "",
            };
            var tags = (cell["metadata"]?["tags"] as JsonArray)?.Select(t => (string?)t).OfType<string>().ToArray() ?? [];
            var c = new Cell(i, source, tags);
            if (tags.Contains("skip")) continue;
            if (tags.Contains("imports")) imports.Add(c);
            else if (tags.Contains("functions")) functions.Add(c);
            else if (tags.Contains("pipeline-parameters")) parameters.Add(c);
            else if (tags.Contains("pipeline-metrics"))
            {
                if (metrics is not null) errors.Add($"{c.Where}: a second pipeline-metrics cell ({metrics.Where} is the first)");
                metrics = c;
            }
            else
            {
                foreach (var tag in tags)
                {
                    if (tag.StartsWith("step:", StringComparison.Ordinal) || tag.StartsWith("block:", StringComparison.Ordinal))
                    {
                        var name = tag[(tag.IndexOf(':') + 1)..];
                        if (!StepName().IsMatch(name))
                            errors.Add($"{c.Where}: step name '{name}' is not an identifier (a letter or '_', then letters, digits or '_')");
                        current = steps.FirstOrDefault(s => s.Name == name);
                        if (current is null) steps.Add(current = new Step(name, c));
                    }
                }
                if (current is null)
                {
                    if (source.Trim().Length > 0) errors.Add($"{c.Where}: belongs to no step; tag it step:NAME, or skip");
                    continue;
                }
                foreach (var tag in tags)
                {
                    if (tag.StartsWith("prev:", StringComparison.Ordinal)) current.Prev.Add(tag[5..]);
                    else if (tag.StartsWith("limit:nvidia.com/gpu:", StringComparison.Ordinal))
                    {
                        if (double.TryParse(tag[21..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var gpu) && gpu > 0)
                            current.Gpu = gpu;
                        else errors.Add($"{c.Where}: {tag} is not a GPU count");
                    }
                    else if (tag.StartsWith("image:", StringComparison.Ordinal)) current.Image = tag[6..];
                    else if (tag == "cache:disabled") current.Cache = false;
                }
                current.Cells.Add(c);
            }
        }
        if (steps.Count == 0) errors.Add("no steps: tag a cell step:NAME to start one");
        foreach (var step in steps)
        {
            if (step.Cells.All(c => c.Source.Trim().Length == 0)) errors.Add($"{step.First.Where}: step {step.Name} has no code");
            foreach (var prev in step.Prev.Where(p => steps.All(s => s.Name != p)))
                errors.Add($"{step.First.Where}: prev:{prev} names no step; steps: {string.Join(", ", steps.Select(s => s.Name))}");
        }
        if (steps.Any(s => s.Name == MetricsStep)) errors.Add($"step name {MetricsStep} is the tuner's own, for the pipeline-metrics cell");
        if (Cycle(steps) is { } cycle) errors.Add($"{steps.First(s => s.Name == cycle[0]).First.Where}: prev: cycle {string.Join(" -> ", cycle)}");
        if (errors.Count > 0) throw new StudyFileException([.. errors.Select(e => new StudyFileError("", 0, 0, e))]);

        var ancestors = steps.ToDictionary(s => s.Name, s => Ancestors(steps, s));
        var analysed = Analyse(new
        {
            parameters = parameters.Select(c => c.Json),
            imports = imports.Select(c => c.Json),
            functions = functions.Select(c => c.Json),
            metrics = metrics?.Json,
            metricsStep = MetricsStep,
            steps = steps.Select(s => new { name = s.Name, ancestors = ancestors[s.Name], cells = s.Cells.Select(c => c.Json) })
                .Concat(metrics is null ? [] : [new { name = MetricsStep, ancestors = steps.Select(s => s.Name).ToList(), cells = Enumerable.Empty<object>() }]),
        });
        var problems = analysed["errors"]!.AsArray().Select(e => (string)e!).ToList();
        var searched = searchedOf(analysed["parameters"]!.AsObject(), problems);
        if (problems.Count > 0) throw new StudyFileException([.. problems.Select(e => new StudyFileError("", 0, 0, e))]);
        var prelude = imports.Concat(functions).Select(c => c.Json).ToList();
        var pipeline = new JsonArray();
        var all = steps.Select(s => (s.Name, Step: (Step?)s)).ToList();
        if (metrics is not null) all.Add((MetricsStep, null));
        foreach (var (name, step) in all)
        {
            var uses = analysed["steps"]![name]!;
            var reads = uses["parameters"]!.AsArray().Select(p => (string)p!).ToList();
            var upstream = step is null ? steps.Select(s => s.Name).ToList() : ancestors[name];
            var command = new JsonArray(Python, "-c", Runner, "run");
            foreach (var parameter in reads.Where(searched.Contains)) Arguments(command, "--param", $"{parameter}=${{params.{parameter}}}");
            foreach (var before in upstream) Arguments(command, "--input", $"{before}=${{steps.{before}.outputs}}");
            Arguments(command, "--workdir", "${study.dir}", "--outputs", "${outputs}");
            var run = new
            {
                name,
                cells = step?.Cells.Select(c => c.Json) ?? [],
                prelude,
                parameters = reads.ToDictionary(p => p, p => analysed["parameters"]![p]),
                inputs = uses["inputs"],
                outputs = uses["outputs"],
                metrics = step is null ? analysed["metrics"] : null,
            };
            var entry = new JsonObject
            {
                ["name"] = name,
                // Every step before it, not only its prev: the runner reads their outputs (variables, executed notebooks).
                ["dependsOn"] = new JsonArray([.. upstream.Select(p => (JsonNode)p!)]),
                ["command"] = command,
                // Base64: a cell may hold "${", which the study file would read as a placeholder.
                ["env"] = new JsonObject { ["TUNER_NOTEBOOK_STEP"] = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(run)) },
                ["cache"] = step?.Cache ?? true,
            };
            if (step?.Image is { } image) entry["image"] = image;
            if (step?.Gpu > 0) entry["resources"] = new JsonObject { ["gpu"] = step.Gpu };
            pipeline.Add(entry);
        }
        return pipeline;
    }

    private static void Arguments(JsonArray command, params string[] arguments)
    {
        foreach (var argument in arguments) command.Add(argument);
    }

    /// <param name="Place">The notebook field a study-file path came from, for errors.</param>
    private sealed record TuningFields(JsonObject Fields, IReadOnlySet<string> Searched, Func<string, string> Place);

    /// <summary>
    /// The study fields of the notebook's metadata (<c>tuning</c>, or Kale's <c>kubeflow_notebook.katib_metadata</c>),
    /// checked against its parameters cell.
    /// </summary>
    private static TuningFields Tuning(JsonObject notebook, JsonObject parameters, List<string> errors)
    {
        JsonObject fields;
        Func<string, string> place;
        if (notebook["metadata"]?["tuning"] is JsonObject tuning)
        {
            fields = (JsonObject)tuning.DeepClone();
            place = path => "metadata.tuning." + path;
            if (fields.ContainsKey("trial")) throw Problem("metadata.tuning.trial: the notebook's steps are the trial; remove it");
        }
        else if (notebook["metadata"]?["kubeflow_notebook"] is JsonObject { } kale && kale["katib_metadata"] is JsonObject katib)
            (fields, place) = Katib(katib, kale["experiment_name"] is JsonValue name && name.TryGetValue<string>(out var text) ? text : null);
        else
            throw Problem("metadata.tuning: missing: the study (name, objective, algorithm, budget, parameters) as a study file writes it, " +
                          "or Kale's kubeflow_notebook.katib_metadata");
        var searched = (fields["parameters"] as JsonArray)?.Select(p => (string?)p?["name"]).OfType<string>().ToHashSet(StringComparer.Ordinal) ?? [];
        var missing = searched.Where(p => !parameters.ContainsKey(p)).ToList();
        // First: a searched parameter missing from the cell is also read by cells as a variable no step defines.
        if (missing.Count > 0)
            errors.Insert(0, $"{place("parameters")}: {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} searched but not assigned in the pipeline-parameters cell");
        return new TuningFields(fields, searched, place);
    }

    /// <summary>Kale's katib_metadata (an Experiment's spec less its trial template) as the study file's fields, read as a Katib Experiment is.</summary>
    private static (JsonObject Fields, Func<string, string> Place) Katib(JsonObject katib, string? name)
    {
        const string at = "metadata.kubeflow_notebook";
        if (name is null) throw Problem($"{at}.experiment_name: missing: the study's name, which Kale keeps there");
        var stream = new YamlStream();
        stream.Load(new StringReader(katib.ToJsonString()));
        var reader = new YamlReader();
        var (study, katibPath) = KatibExperiment.TranslateSearch(reader, (YamlMappingNode)stream.Documents[0].RootNode, new YamlScalarNode(name));
        string Place(string path) => katibPath(path) switch
        {
            "spec" => at + ".katib_metadata",
            "name" => at + ".experiment_name",
            var katibField when katibField.StartsWith("spec.", StringComparison.Ordinal) => at + ".katib_metadata." + katibField[5..],
            var other => at + ".katib_metadata." + other,
        };
        if (reader.Errors.Count > 0 || study is null)
            throw new StudyFileException([.. reader.Errors.Select(e => new StudyFileError(Place(e.Path), 0, 0, e.Message))]);
        return ((JsonObject)Json(study)!, Place);
    }

    private static JsonNode? Json(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Json(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Json)]),
        _ => JsonValue.Create(((YamlScalarNode)node).Value),
    };

    private static JsonObject Analyse(object notebook)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", Runner, "analyse" }) start.ArgumentList.Add(argument);
        Process? started;
        try
        {
            started = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw Problem($"cannot run {Python} to read the notebook ({e.Message}); notebooks need Debian's python3, python3-nbclient, python3-ipykernel and python3-dill");
        }
        using var process = started ?? throw Problem($"cannot start {Python} to read the notebook");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(JsonSerializer.Serialize(notebook));
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw Problem($"reading the notebook's cells with {Python} failed (exit {process.ExitCode}): {error.Result.Trim()}");
        return JsonNode.Parse(output.Result)!.AsObject();
    }

    /// <summary>Every step a step comes after (through prev:), in notebook order.</summary>
    private static List<string> Ancestors(List<Step> steps, Step step)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(step.Prev);
        while (stack.TryPop(out var next))
            if (seen.Add(next))
                foreach (var prev in steps.First(s => s.Name == next).Prev) stack.Push(prev);
        return [.. steps.Select(s => s.Name).Where(seen.Contains)];
    }

    private static List<string>? Cycle(List<Step> steps)
    {
        foreach (var step in steps)
        {
            var path = new List<string> { step.Name };
            if (Reaches(step.Name, step, path)) return path;
        }
        return null;

        bool Reaches(string target, Step from, List<string> path)
        {
            foreach (var prev in from.Prev)
            {
                if (path.Count > steps.Count) return false;
                path.Add(prev);
                if (prev == target) return true;
                if (steps.FirstOrDefault(s => s.Name == prev) is { } next && Reaches(target, next, path)) return true;
                path.RemoveAt(path.Count - 1);
            }
            return false;
        }
    }

    /// <summary>
    /// A notebook that replays a step as it ran in a trial, from the executed notebook it left
    /// (<c>executed.ipynb</c> in its folder): the state it started from (its inputs loaded from the variables the steps
    /// before it saved, the trial's parameters), then its cells, outputs cleared; the tuner's saving and metrics cells
    /// are left out. Null where the step left no executed notebook in that folder.
    /// </summary>
    public static string? Replay(string stepDirectory, string title)
    {
        var file = Path.Combine(stepDirectory, "executed.ipynb");
        if (!File.Exists(file)) return null;
        var notebook = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        var cells = new JsonArray(new JsonObject
        {
            ["cell_type"] = "markdown",
            ["id"] = "tuner-replay",
            ["metadata"] = new JsonObject(),
            ["source"] = title,
        });
        foreach (var cell in notebook["cells"]!.AsArray().Select(c => c!.AsObject()))
        {
            var tags = (cell["metadata"]?["tags"] as JsonArray)?.Select(t => (string?)t).ToList() ?? [];
            if (tags.Contains("tuner:save") || tags.Contains("pipeline-metrics")) continue;
            var copy = (JsonObject)cell.DeepClone();
            copy["outputs"] = new JsonArray();
            copy["execution_count"] = null;
            cells.Add(copy);
        }
        notebook["cells"] = cells;
        return notebook.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// A trial's executed notebook: each step's executed notebook (from <c>executed.ipynb</c> in the step's folder under
    /// <paramref name="trialDirectory"/>), in pipeline order, under a heading per step; null where no step left one.
    /// </summary>
    public static string? TrialNotebook(string trialDirectory, IEnumerable<string> steps)
    {
        JsonObject? merged = null;
        foreach (var step in steps)
        {
            var file = Path.Combine(trialDirectory, step, "executed.ipynb");
            if (!File.Exists(file)) continue;
            var notebook = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            if (merged is null)
            {
                merged = (JsonObject)notebook.DeepClone();
                merged["cells"] = new JsonArray();
            }
            merged["cells"]!.AsArray().Add(new JsonObject
            {
                ["cell_type"] = "markdown",
                ["id"] = $"tuner-step-{step}",
                ["metadata"] = new JsonObject(),
                ["source"] = $"## Step {step}",
            });
            foreach (var cell in notebook["cells"]!.AsArray()) merged["cells"]!.AsArray().Add(cell!.DeepClone());
        }
        return merged?.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
