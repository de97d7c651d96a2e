using System.Text.Json;
using Tuning.Api.Reports;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Studies;

namespace Tuning.Api.Service;

/// <summary>
/// <c>GET /api/studies/{id}/events</c>: server-sent events that say when a study changed, so a page follows it without
/// polling (every open page asking every 1.5 s piles up, optuna-dashboard's issue 817) and a finished study costs
/// nothing: the stream ends with the study. The server looks every half second, in-process; an event goes out only
/// when the study or a running trial's metrics changed.
/// </summary>
public static class StudyEvents
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);

    /// <summary>A comment line this often keeps proxies from closing a quiet stream.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void Map(WebApplication app) =>
        app.MapGet("/api/studies/{id}/events", Stream)
            .WithTags("studies")
            .WithSummary("Server-sent events: 'study' (the study at a glance, as GET /api/studies lists it) whenever it or a running trial changed")
            .WithDescription("The first event is sent at once; the stream ends after the event that shows the study ended.")
            .Produces<StudyView>(contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task Stream(string id, HttpContext context, StudyService service)
    {
        var caller = StudyEndpoints.Visible(context);
        if (!Guid.TryParse(id, out var guid) || await service.GetAsync(guid, caller) is null)
        {
            await StudyEndpoints.NotFound(id).ExecuteAsync(context);
            return;
        }
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var stopping = context.RequestAborted;
        string? sent = null;
        var quietSince = DateTime.UtcNow;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                // A study deleted meanwhile ends the stream: there is nothing more to follow.
                if (await service.GetAsync(guid, caller) is not { } study) return;
                var running = await service.TrialsAsync(guid, caller, new TrialQuery(TrialStatus.Running, "number", TrialQuery.MaxLimit));
                var version = Version(study, running?.Trials ?? []);
                if (version != sent)
                {
                    await response.WriteAsync($"event: study\ndata: {JsonSerializer.Serialize(Views.Study(study), Views.Json)}\n\n", stopping);
                    sent = version;
                    quietSince = DateTime.UtcNow;
                }
                else if (DateTime.UtcNow - quietSince > KeepAlive)
                {
                    await response.WriteAsync(": still here\n\n", stopping);
                    quietSince = DateTime.UtcNow;
                }
                await response.Body.FlushAsync(stopping);
                if (study.Status.IsTerminal()) return;
                await Task.Delay(Every, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The page went away.
        }
    }

    /// <summary>What the page shows of a study, as far as it changes: its counts and status, and each running trial's metrics and curves.</summary>
    private static string Version(StudySnapshot study, IEnumerable<TrialRecord> running) =>
        $"{study.Status}/{study.Created}/{study.Running}/{study.Succeeded}/{study.Failed}/{study.EarlyStopped}/{study.CachedSteps}/{study.Best?.Number}|" +
        string.Join(",", running.Select(t => $"{t.Number}:{t.Attempt}:{t.Intermediate.Sum(curve => curve.Value.Length)}:{string.Join(';', t.Metrics.Values)}"));
}
