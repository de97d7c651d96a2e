using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Tuning.Api.Reports;
using Tuning.Trials.Execution;
using Tuning.Tuner.Hosting;
using Tuning.Tuner.Studies;

namespace Tuning.Api.Service;

/// <summary>
/// One trial: <c>/api/studies/{id}/trials/{n}</c> (its record, what the dashboard's trial page shows) and
/// <c>…/logs?step=NAME</c> (what a step printed, as kept beside the trial or in the cache entry it was taken from), so a
/// remote user sees more of a failure than its last line.
/// </summary>
public static class TrialEndpoints
{
    /// <summary>The most lines <c>?tail=</c> returns: more is what <c>Range</c> is for.</summary>
    public const int MaxTail = 100_000;

    public static void Map(WebApplication app)
    {
        var trials = app.MapGroup("/api/studies/{id}/trials/{number:int}").WithTags("studies");

        trials.MapGet("/", async Task<IResult> (string id, int number, HttpContext context, StudyService service, StudySpecCache specs) =>
                await Find(id, number, context, service) is ({ } guid, { } trial) && await StepNames(guid, context, service, specs) is { } steps
                    ? TypedResults.Ok(new TrialDetailView(Views.Trial(trial), steps))
                    : Missing(id, number))
            .WithSummary("One trial: parameters, metrics, learning curves, steps (cached or not, seconds), error and retries, and the study's step names")
            .Produces<TrialDetailView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        trials.MapGet("/logs", Logs)
            .WithSummary("What a step of the trial printed: ?step=NAME (&stream=stderr; &tail=N for the last N lines; or a Range of bytes)")
            .WithDescription("The log as kept (at most 64 MiB a stream): the trial's own for a step that ran, the cache entry's for a step taken " +
                             "from the cache (the header X-Tuner-Log-Cached says so). 404 for an unknown trial or step, or a step with no log kept.")
            .Produces<string>(contentType: "text/plain")
            .Produces<string>(StatusCodes.Status206PartialContent, contentType: "text/plain")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Logs(string id, int number, string? step, string? stream, string? tail, HttpContext context,
        StudyService service, StudySpecCache specs, IOptions<TunerOptions> options)
    {
        stream ??= "stdout";
        if (!StepLogs.Streams.Contains(stream))
            return StudyEndpoints.Problem(StatusCodes.Status400BadRequest, "Invalid query", $"stream is stdout or stderr, got '{TunerServer.Printable(stream)}'");
        var lines = 0;
        if (tail is not null && !(int.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out lines) && lines is > 0 and <= MaxTail))
            return StudyEndpoints.Problem(StatusCodes.Status400BadRequest, "Invalid query", $"tail is a number of lines from 1 to {MaxTail}, got '{TunerServer.Printable(tail)}'");
        if (await Find(id, number, context, service) is not ({ } guid, { }) || await StepNames(guid, context, service, specs) is not { } steps)
            return Missing(id, number);
        // Only the study's own step names reach the file system: a name is never a path.
        if (string.IsNullOrEmpty(step) || !steps.Contains(step))
            return StudyEndpoints.Problem(StatusCodes.Status404NotFound, "No such step",
                $"{(string.IsNullOrEmpty(step) ? "name a step with ?step=NAME" : $"the study has no step '{TunerServer.Printable(step)}'")}; its steps: {string.Join(", ", steps)}");
        if (StepLogs.Find(Path.Combine(options.Value.TrialDirectory(guid, number), step), stream) is not { } log)
            return StudyEndpoints.Problem(StatusCodes.Status404NotFound, "No log",
                $"trial {number} kept no {stream} log of step '{step}' (the step has not started, or the cache entry it was taken from was pruned)");
        context.Response.Headers["X-Tuner-Log-Cached"] = log.Cached ? "true" : "false";
        return lines > 0
            ? TypedResults.Text(LastLines(log.Path, lines), "text/plain", Encoding.UTF8)
            : TypedResults.PhysicalFile(log.Path, "text/plain; charset=utf-8", enableRangeProcessing: true);
    }

    /// <summary>The last <paramref name="count"/> lines of a file, read backwards from its end: a log may be 64 MiB.</summary>
    public static string LastLines(string path, int count)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[64 * 1024];
        var start = file.Length;
        var newlines = 0;
        while (start > 0)
        {
            var read = (int)Math.Min(buffer.Length, start);
            file.Position = start - read;
            file.ReadExactly(buffer, 0, read);
            for (var i = read - 1; i >= 0; i--)
            {
                // The newline that ends the last line starts no line after it.
                if (buffer[i] != '\n' || start - read + i == file.Length - 1) continue;
                if (++newlines == count) return Read(file, start - read + i + 1);
            }
            start -= read;
        }
        return Read(file, 0);
    }

    private static string Read(FileStream file, long from)
    {
        file.Position = from;
        using var reader = new StreamReader(file, Encoding.UTF8, leaveOpen: true);
        return reader.ReadToEnd();
    }

    /// <summary>The study's id and the trial's record; the record is null where the study or the trial is unknown to the caller.</summary>
    private static async Task<(Guid? Study, Tuning.Tuner.Grains.TrialRecord? Trial)> Find(string id, int number, HttpContext context, StudyService service) =>
        Guid.TryParse(id, out var guid) ? (guid, await service.TrialAsync(guid, StudyEndpoints.Visible(context), number)) : (null, null);

    /// <summary>The study's steps in its file's order; null for a study deleted meanwhile.</summary>
    private static async Task<string[]?> StepNames(Guid study, HttpContext context, StudyService service, StudySpecCache specs) =>
        await service.SourceAsync(study, StudyEndpoints.Visible(context)) is { } source ? specs.Get(source).Trial.Steps.Select(s => s.Name).ToArray() : null;

    private static IResult Missing(string id, int number) =>
        StudyEndpoints.Problem(StatusCodes.Status404NotFound, "No such trial", $"no trial {number} of study '{TunerServer.Printable(id)}' in this namespace");
}
