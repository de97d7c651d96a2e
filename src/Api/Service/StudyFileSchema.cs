using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Tuning.Algorithms.EarlyStopping;
using Tuning.Algorithms.Suggesters;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;

namespace Tuning.Api.Service;

/// <summary>
/// The study file's fields as a JSON schema in the OpenAPI document, for clients that generate or check study
/// files. The validator (<see cref="Trials.Studies.StudyFile"/>) stays the authority: it also checks what a
/// schema cannot say (bounds in order, placeholders that resolve, dependency cycles).
/// </summary>
public static class StudyFileSchema
{
    public static OpenApiSchema Build()
    {
        var study = Properties();
        // One objective or several, never both: a file with both matches both branches, which oneOf refuses.
        study.OneOf = [new OpenApiSchema { Required = new HashSet<string> { "objective" } }, new OpenApiSchema { Required = new HashSet<string> { "objectives" } }];
        return study;
    }

    private static OpenApiSchema Properties() => Object("A study file (YAML, or JSON with the same fields).",
        new()
        {
            ["name"] = Text("The study name", pattern: "^[a-z0-9-]+$"),
            ["objective"] = Object("The metric every trial reports, and whether to minimise or maximise it", new()
            {
                ["metric"] = Text("The metric's name"),
                ["goal"] = Choice("minimize or maximize", "minimize", "maximize"),
                ["target"] = Number("Stop with success once reached"),
                ["additionalMetrics"] = List(Text("A metric to collect and show")),
            }, "metric", "goal"),
            ["objectives"] = List(Object("One of 2 to 4 objectives, in place of objective: trials are compared by Pareto dominance", new()
            {
                ["metric"] = Text("The metric's name"),
                ["goal"] = Choice("minimize or maximize", "minimize", "maximize"),
                ["reference"] = Number("The objective's coordinate of the hypervolume reference point, as reported (default: derived from the trials)"),
            }, "metric", "goal"), minItems: StudyFile.MinObjectives, maxItems: StudyFile.MaxObjectives),
            ["constraints"] = List(Object("A bound a feasible trial's metric holds; a trial that does not report the metric fails", new()
            {
                ["metric"] = Text("The metric's name (not an objective's)"),
                ["max"] = Number("The most the metric may be"),
                ["min"] = Number("The least the metric may be"),
                ["monotone"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "The metric only moves away from its bound as a trial trains, so early stopping may stop a trial that breaks it (default false)" },
            }, "metric")),
            ["algorithm"] = Object("How parameters are suggested (default random)", new()
            {
                ["name"] = Choice("The algorithm", AlgorithmCatalog.Names.ToArray()),
                ["seed"] = Integer("Same seed and same results give the same suggestions"),
                ["settings"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Per algorithm; see the README" },
            }, "name"),
            ["earlyStopping"] = Object("Stop trials whose learning curves are clearly worse than the others'", new()
            {
                ["name"] = Choice("The rule", EarlyStoppingCatalog.Names.ToArray()),
                ["settings"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "median: minTrials, startStep; asha: minStep, reductionFactor; hyperband: minStep, maxStep, reductionFactor" },
            }, "name"),
            ["budget"] = Object("How many trials, steps or how much time, how many at once, how many may fail", new()
            {
                ["maxTrials"] = Integer("Trials to run", minimum: 1),
                ["maxSteps"] = Integer("The most steps (epochs) the trials may report together, each trial's highest step summed; the study ends once they have", minimum: 1),
                ["maxTime"] = Text("The most wall-clock time from the study's creation, like 90s, 2h or 1h30m (at most 365d); the study ends then"),
                ["parallelTrials"] = Integer("Trials at once (default 1, at most 1000)", minimum: 1),
                ["maxFailedTrials"] = Integer("The study fails when more trials fail (default: a tenth, at least 3)", minimum: 0),
                ["maxRetries"] = Integer("How often a trial that failed for want of the machinery (a lost silo, an evicted pod) runs again (default 2)", minimum: 0),
                ["trialTimeout"] = Text("Like 90s, 10m, 1h30m or 500ms; at most 30d"),
                ["trialDiskQuota"] = Text("The most a trial's logs and outputs may hold on disk, like 500M or 10G (binary units; default 10G, at least 1M)", pattern: @"^\d+(\.\d+)?\s*[KMGTkmgt]?(i?[Bb]?)$"),
            }, "maxTrials"),
            ["enqueue"] = List(new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "A parameter set to run first (trials 0, 1, … in list order): every parameter of the study, each a value it takes",
                AdditionalProperties = new OpenApiSchema { Description = "The parameter's value: a number, or a category's name" },
            }),
            ["warmStart"] = Object("An earlier study's finished trials, seen by the suggester as observations (not run, not counted against the budget)", new()
            {
                ["from"] = Text("Its study.json (what tuner run --out writes), relative to the study file's folder; its space must be this study's"),
            }, "from"),
            ["parameters"] = List(Object("One parameter (at most 1000)", new()
            {
                ["name"] = Text("The parameter's name"),
                ["type"] = Choice("Its kind", "double", "int", "discrete", "categorical"),
                ["min"] = Number("Lower bound (double, int)"),
                ["max"] = Number("Upper bound (double, int)"),
                ["scale"] = Choice("Search in log space (double, int)", "linear", "log"),
                ["step"] = Number("A grid step (double, int)"),
                ["values"] = List(new OpenApiSchema { Description = "A number (discrete) or a name (categorical)" }),
            }, "name", "type")),
            ["trial"] = Object("The pipeline every trial runs (steps), or external: clients ask for trials and tell their results", new()
            {
                ["external"] = Object("Trials run by clients over ask/tell; instead of steps", new()
                {
                    ["heartbeatTimeout"] = Text("Like 90s or 5m (default 5m): a trial silent this long is handed out again under a new attempt"),
                }),
                ["executor"] = Choice("Where steps run", ExecutorCatalog.Names.ToArray()),
                ["kubernetes"] = Object("For executor: kubernetes", new() { ["namespace"] = Text("Namespace"), ["volumeClaim"] = Text("Volume claim") }),
                ["steps"] = List(Object("One step", new()
                {
                    ["name"] = Text("The step's name"),
                    ["command"] = List(Text("An argument; placeholders like ${params.NAME} are substituted")),
                    ["dependsOn"] = List(Text("A step that runs first")),
                    ["image"] = Text("The container image (container and kubernetes executors)"),
                    ["env"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Environment variables" },
                    ["resources"] = Object("What the step needs", new()
                    {
                        ["gpu"] = Number("GPUs: a fraction (0.25) shares one device, a whole number takes that many"),
                        ["cpu"] = Number("Cores; steps that say take them in turn"),
                        ["memory"] = Text("Like 512Mi or 4Gi"),
                    }),
                    ["cache"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Take the step from the cache when its inputs did not change (default true)" },
                }, "name", "command")),
            }),
        }, "name", "budget", "parameters", "trial");

    private static OpenApiSchema Object(string description, Dictionary<string, IOpenApiSchema> properties, params string[] required) => new()
    {
        Type = JsonSchemaType.Object,
        Description = description,
        Properties = properties,
        Required = new HashSet<string>(required),
        AdditionalPropertiesAllowed = false,
    };

    private static OpenApiSchema List(IOpenApiSchema items, int? minItems = null, int? maxItems = null) =>
        new() { Type = JsonSchemaType.Array, Items = items, MinItems = minItems, MaxItems = maxItems };

    private static OpenApiSchema Text(string description, string? pattern = null) =>
        new() { Type = JsonSchemaType.String, Description = description, Pattern = pattern };

    private static OpenApiSchema Number(string description) => new() { Type = JsonSchemaType.Number, Description = description };

    private static OpenApiSchema Integer(string description, int? minimum = null) =>
        new() { Type = JsonSchemaType.Integer, Description = description, Minimum = minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static OpenApiSchema Choice(string description, params string[] values) =>
        new() { Type = JsonSchemaType.String, Description = description, Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList() };
}
