using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tuning.Api.Reports;
using Tuning.Trials;
using Tuning.Trials.Notebooks;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Hosting;
using Tuning.Tuner.Studies;

namespace Tuning.Api.Service;

/// <summary>
/// <c>/api/studies</c>: DESIGN.md's HTTP contract over the study service. Every error is ProblemDetails; a study of
/// another namespace is a 404, as if it did not exist.
/// </summary>
public static class StudyEndpoints
{
    public static void Map(WebApplication app)
    {
        var studies = app.MapGroup("/api/studies").WithTags("studies");

        studies.MapPost("/", Submit)
            .WithSummary("Submit a study file (YAML or JSON body) and start it")
            .WithDescription("The body is a study file (components.schemas.StudyFile). Its relative paths resolve against `dir`, " +
                             "a folder inside the namespace's workdir (default: the workdir itself).")
            .Accepts<string>(StudyTypes[0], StudyTypes[1..])
            .Produces<StudyView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        studies.MapGet("/", async (HttpContext context, StudyService service) =>
                TypedResults.Ok((await service.ListAsync(Visible(context))).Select(Views.Study).ToArray()))
            .WithSummary("The namespace's studies, newest first");

        studies.MapGet("/{id}", async Task<IResult> (string id, HttpContext context, StudyService service, StudySpecCache specs) =>
                ParseId(id) is { } guid && await service.GetDetailAsync(guid, Visible(context)) is { } detail
                    ? TypedResults.Ok(Views.Detail(detail.Study, detail.Recommended, detail.Source is { } source ? specs.Get(source).Objectives : null))
                    : NotFound(id))
            .WithSummary("One study at a glance, with the trial its model recommends")
            .Produces<StudyDetailView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        studies.MapGet("/{id}/trials", Trials)
            .WithSummary("A page of the study's trials: ?status=Succeeded&param=x:0.2..0.5&param=opt:adam&sort=-value&limit=100&after=CURSOR")
            .Produces<TrialPageView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        studies.MapPost("/{id}/trials", Ask)
            .WithSummary("Ask for a trial of an external study (trial: {external: ...}): its number, parameters and attempt")
            .WithDescription("A trial whose client sent nothing for the heartbeat timeout is handed out again (same number and parameters, " +
                             "new attempt); else the next enqueued set or suggestion. 409 once the budget is spent or the study has ended.")
            .Produces<AskedTrialView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        studies.MapPost("/{id}/trials/{number}/report", Report)
            .WithSummary("Report an external trial's intermediate values at a step; answers whether the study stops it early")
            .Produces<ReportAnswerView>()
            .RefusedAsTrialCall();

        studies.MapPost("/{id}/trials/{number}/tell", Tell)
            .WithSummary("Tell an external trial's outcome: its metrics, or why it failed")
            .WithDescription("The same tell again is 200 (a client may retry); another outcome, or a tell from an attempt no longer current, is 409.")
            .Produces<TrialView>()
            .RefusedAsTrialCall();

        studies.MapPost("/{id}/trials/{number}/heartbeat", Heartbeat)
            .WithSummary("Keep an external trial's attempt alive (any report does too)")
            .Produces<AskedTrialView>()
            .RefusedAsTrialCall();

        studies.MapGet("/{id}/spec", async Task<IResult> (string id, HttpContext context, StudyService service) =>
                ParseId(id) is { } guid && await service.SourceAsync(guid, Visible(context)) is { } source
                    ? TypedResults.Text(source.Text, "application/yaml", Encoding.UTF8)
                    : NotFound(id))
            .WithSummary("The study file as submitted")
            .Produces<string>(contentType: "application/yaml")
            .ProducesProblem(StatusCodes.Status404NotFound);

        studies.MapGet("/{id}/trials/{number:int}/notebook", async Task<IResult> (string id, int number, HttpContext context, StudyService service, IOptions<TunerOptions> options) =>
            {
                if (ParseId(id) is not { } guid || await service.SourceAsync(guid, Visible(context)) is not { } source) return NotFound(id);
                var steps = StudyFile.Parse(source.Text, source.Directory, readWarmStart: false).Trial.Steps.Select(s => s.Name);
                var trial = options.Value.TrialDirectory(guid, number);
                return NotebookStudy.TrialNotebook(trial, steps) is { } notebook
                    ? TypedResults.Text(notebook, NotebookType, Encoding.UTF8)
                    : Problem(StatusCodes.Status404NotFound, "No notebook", $"trial {number} of study {id} has no executed notebook (not a notebook study, or no step of it ran)");
            })
            .WithSummary("A trial's executed notebook (a notebook study's): every step's cells with their outputs, a failure's traceback included")
            .Produces<string>(contentType: NotebookType)
            .ProducesProblem(StatusCodes.Status404NotFound);

        studies.MapPost("/{id}/stop", async Task<IResult> (string id, HttpContext context, StudyService service) =>
            {
                if (ParseId(id) is not { } guid) return NotFound(id);
                var (outcome, study) = await service.StopAsync(guid, Visible(context));
                return outcome switch
                {
                    StopOutcome.Stopped => TypedResults.Ok(Views.Study(study!)),
                    StopOutcome.AlreadyEnded => Problem(StatusCodes.Status409Conflict, "The study has ended already",
                        $"study {id} is {study!.Status}: only a running study can be stopped"),
                    _ => NotFound(id),
                };
            })
            .WithSummary("Stop a running study: its trials' processes are killed, none is left Running")
            .Produces<StudyView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        studies.MapDelete("/{id}", async Task<IResult> (string id, HttpContext context, StudyService service) =>
                ParseId(id) is { } guid && await service.DeleteAsync(guid, Visible(context)) ? TypedResults.NoContent() : NotFound(id))
            .WithSummary("Delete a study (stopped first if it runs), its trials and its run folders")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Submit(HttpContext context, StudyService service, [FromQuery] string? dir)
    {
        var caller = Caller(context);
        // Only the types a study file comes as: a page elsewhere can post text/plain without asking first
        // (no CORS preflight), and a study runs commands here.
        var type = context.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        if (!StudyTypes.Contains(type))
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", SendStudyAs);
        var body = await ReadBodyAsync(context.Request);
        if (body is null)
            return Problem(StatusCodes.Status413PayloadTooLarge, "The study file is too large", $"a study file may hold at most {StudyFile.MaxBytes >> 20} MiB");
        var folder = StudyFolder(caller, dir);
        if (folder.Error is { } folderError)
            return Invalid([new StudyFileError("dir", 0, 0, folderError)]);
        try
        {
            // A notebook is kept as the study file it amounts to, which the study's grains re-read without Python.
            if (type == NotebookType) body = NotebookStudy.ToStudyFile(body, folder.Path!);
            var study = await service.SubmitAsync(new StudySource(body, folder.Path!, caller.Name));
            return TypedResults.Created($"/api/studies/{study.Id:N}", Views.Study(study));
        }
        catch (StudyFileException e)
        {
            return Invalid(e.Errors);
        }
    }

    private static async Task<IResult> Trials(string id, HttpContext context, StudyService service,
        string? status, string? sort, string? limit, string? after, string[]? param)
    {
        // limit is read here, not bound as a number, so that '?limit=abc' or an overflowing number is a 400 naming it.
        var count = 100;
        if (limit is not null && !int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count))
            return Problem(StatusCodes.Status400BadRequest, "Invalid query", $"limit must be a whole number from 1 to {TrialQuery.MaxLimit}, got '{TunerServer.Printable(limit)}'");
        TrialStatus? wanted = null;
        if (status is not null)
        {
            if (!Enum.TryParse<TrialStatus>(status, ignoreCase: true, out var parsed))
                return Problem(StatusCodes.Status400BadRequest, "Invalid query",
                    $"status must be one of {string.Join(", ", Enum.GetNames<TrialStatus>())}, got '{TunerServer.Printable(status)}'");
            wanted = parsed;
        }
        var conditions = new List<ParameterCondition>();
        foreach (var text in param ?? [])
        {
            if (ParameterCondition.Parse(text) is not { } condition)
                return Problem(StatusCodes.Status400BadRequest, "Invalid query",
                    $"param is NAME:MIN..MAX (a bound may be left out) or NAME:CATEGORY, got '{TunerServer.Printable(text)}'");
            conditions.Add(condition);
        }
        var query = new TrialQuery(wanted, sort ?? "number", count, after, conditions.ToArray());
        // The problem quotes the query as sent: escaped as every answer quotes a request.
        if (TrialPaging.Problem(query) is { } problem) return Problem(StatusCodes.Status400BadRequest, "Invalid query", TunerServer.Printable(problem));
        return ParseId(id) is { } guid && await service.TrialsAsync(guid, Visible(context), query) is { } page
            ? TypedResults.Ok(new TrialPageView(page.Trials.Select(Views.Trial).ToArray(), page.Total, page.Next))
            : NotFound(id);
    }

    private static async Task<IResult> Ask(string id, HttpContext context, StudyService service) =>
        ParseId(id) is { } guid
            ? Answer(id, await service.ExternalAsync(guid, Visible(context), study => study.Ask()),
                answer => TypedResults.Created($"/api/studies/{guid:N}/trials/{answer.Trial!.Number}", Asked(answer.Trial)))
            : NotFound(id);

    private static async Task<IResult> Report(string id, string number, [FromBody] ReportRequest body, HttpContext context, StudyService service)
    {
        if (body.Step is not { } step || body.Metrics is not { Count: > 0 } metrics)
            return Problem(StatusCodes.Status400BadRequest, "Invalid report", "a report carries attempt, step and at least one metric");
        return await OnTrial(id, number, body.Attempt, context, service, (study, n, attempt) => study.Report(n, attempt, step, metrics),
            answer => TypedResults.Ok(new ReportAnswerView(answer.StopReason is not null, answer.StopReason)));
    }

    private static Task<IResult> Tell(string id, string number, [FromBody] TellRequest body, HttpContext context, StudyService service) =>
        OnTrial(id, number, body.Attempt, context, service, (study, n, attempt) => study.Tell(n, attempt, body.Metrics, body.Failed),
            answer => TypedResults.Ok(Views.Trial(answer.Trial!)));

    private static Task<IResult> Heartbeat(string id, string number, [FromBody] HeartbeatRequest body, HttpContext context, StudyService service) =>
        OnTrial(id, number, body.Attempt, context, service, (study, n, attempt) => study.Heartbeat(n, attempt), answer => TypedResults.Ok(Asked(answer.Trial!)));

    /// <summary>A call on trial <paramref name="number"/> of study <paramref name="id"/> for <paramref name="attempt"/>, answered by <paramref name="ok"/> where it was taken.</summary>
    private static async Task<IResult> OnTrial(string id, string number, string? attempt, HttpContext context, StudyService service,
        Func<IStudyGrain, int, string, Task<ExternalAnswer>> call, Func<ExternalAnswer, IResult> ok)
    {
        if (ParseId(id) is not { } guid) return NotFound(id);
        if (!int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            return Problem(StatusCodes.Status404NotFound, "No such trial", $"'{TunerServer.Printable(number)}' is not a trial number");
        if (string.IsNullOrEmpty(attempt))
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", "the body must name the attempt the trial was handed out as (its ask's attempt)");
        return Answer(id, await service.ExternalAsync(guid, Visible(context), study => call(study, n, attempt)), ok);
    }

    /// <summary>What an external trial's call came to, as HTTP: a refusal as ProblemDetails, else <paramref name="ok"/>'s answer.</summary>
    private static IResult Answer(string id, ExternalAnswer? answer, Func<ExternalAnswer, IResult> ok) =>
        answer switch
        {
            null => NotFound(id),
            { Refusal: Refusal.NoSuchTrial } => Problem(StatusCodes.Status404NotFound, "No such trial", answer.Reason!),
            { Refusal: Refusal.Conflict } => Problem(StatusCodes.Status409Conflict, "Refused", answer.Reason!),
            { Refusal: Refusal.Invalid } => Problem(StatusCodes.Status400BadRequest, "Invalid request", answer.Reason!),
            _ => ok(answer),
        };

    /// <summary>How a report, tell or heartbeat is refused: a body without what it needs, an unknown trial, a superseded attempt or an ended trial.</summary>
    private static RouteHandlerBuilder RefusedAsTrialCall(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict);

    private static AskedTrialView Asked(TrialRecord trial) => new(trial.Number, trial.Id, Views.Parameters(trial.Parameters), trial.Attempt!);

    /// <summary>
    /// The content types a study file is taken as. The OpenAPI document lists exactly these, and routing answers any
    /// other with 415 before the endpoint runs (which still refuses a body that names no type).
    /// </summary>
    public static readonly string[] StudyTypes = ["application/yaml", "application/x-yaml", "text/yaml", "application/json", NotebookType];

    /// <summary>A Kale-tagged Jupyter notebook, taken as the study it amounts to.</summary>
    public const string NotebookType = "application/x-ipynb+json";

    /// <summary>What a 415 for a study file says, the endpoint's or routing's.</summary>
    public static readonly string SendStudyAs = $"send the study file as {string.Join(" or ", StudyTypes)}";

    /// <summary>The body as text, or null when it is larger than a study file may be.</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > StudyFile.MaxBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk)) > 0)
            {
                if (buffer.Length + read > StudyFile.MaxBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null; // a chunked body past the server's own limit
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// A posted study's folder: <paramref name="dir"/> inside the namespace's workdir, which the server may read,
    /// compared (and used) with every symbolic link resolved, so no link inside the workdir leads out of it. (The
    /// workdir limits where study files are read from; it is no sandbox: steps run as the server's user.)
    /// </summary>
    private static (string? Path, string? Error) StudyFolder(NamespaceConfig caller, string? dir)
    {
        // A NUL would end the name early on its way to the operating system.
        var folder = dir?.Contains('\0') == true ? null : RealPath.Of(Path.Combine(caller.Workdir, dir ?? "."));
        if (folder is null || !Directory.Exists(folder)) return (null, $"no folder '{dir}' in this namespace's workdir");
        var root = RealPath.Of(caller.Workdir) ?? caller.Workdir;
        if (folder != root && !folder.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
            return (null, $"'{dir}' is outside this namespace's workdir; the server reads study files under {caller.Workdir} only");
        return (folder, null);
    }

    public static NamespaceConfig Caller(HttpContext context) => (NamespaceConfig)context.Items[typeof(NamespaceConfig)]!;

    /// <summary>The namespaces a caller sees: its own, or every one for an operator (who must be able to find and stop any study).</summary>
    public static string? Visible(HttpContext context) => Caller(context) is { Operator: true } ? null : Caller(context).Name;

    private static Guid? ParseId(string id) => Guid.TryParse(id, out var guid) ? guid : null;

    public static IResult NotFound(string id) => Problem(StatusCodes.Status404NotFound, "No such study", $"no study '{TunerServer.Printable(id)}' in this namespace");

    public static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    /// <summary>400 listing every problem of a study file, each with its field path, line and column.</summary>
    private static IResult Invalid(IReadOnlyList<StudyFileError> errors) =>
        TypedResults.Problem(
            title: "Invalid study file",
            detail: string.Join("\n", errors),
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = errors.Select(e => new { path = e.Path, label = e.Label ?? e.Path, line = e.Line, column = e.Column, message = e.Message }).ToArray(),
            });
}

/// <summary>A trial handed out to a client: what it runs, and the attempt its reports and tell must name.</summary>
public sealed record AskedTrialView(int Number, string Id, Dictionary<string, object> Parameters, string Attempt);

/// <param name="Stop">The study stopped the trial early (<paramref name="Reason"/> says why): the client should end it; no tell is needed.</param>
public sealed record ReportAnswerView(bool Stop, string? Reason);

/// <summary>Intermediate values of an external trial at one step.</summary>
public sealed record ReportRequest(string? Attempt, long? Step, Dictionary<string, double>? Metrics);

/// <summary>An external trial's outcome: metrics (with the objective) for a trial that succeeded, or why it failed.</summary>
public sealed record TellRequest(string? Attempt, Dictionary<string, double>? Metrics, string? Failed);

public sealed record HeartbeatRequest(string? Attempt);
