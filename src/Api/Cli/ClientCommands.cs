using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Tuning.Api.Reports;
using Tuning.Api.Service;
using Tuning.Tuner.Grains;

namespace Tuning.Api.Cli;

/// <summary>
/// The client verbs: <c>submit</c>, <c>list</c>, <c>status</c>, <c>trials</c>, <c>stop</c>, <c>delete</c>, <c>plot</c>, and
/// <c>ask</c> and <c>tell</c> for an external study's trials,
/// against a server (<c>--server</c> or <c>TUNER_SERVER</c>, a key from <c>--key</c> or <c>TUNER_KEY</c>).
/// Exit codes: 0 done, 1 the server refused or failed (unknown study, conflict), 2 invalid input, 3 no server or no valid key.
/// </summary>
public static class ClientCommands
{
    private static readonly Option<string> Server = new("--server")
    {
        Description = "The tuner server (default: $TUNER_SERVER, else " + ServeCommand.DefaultUrls + ")",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TUNER_SERVER") ?? ServeCommand.DefaultUrls,
    };

    private static readonly Option<string?> Key = new("--key")
    {
        Description = "An API key (default: $TUNER_KEY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TUNER_KEY"),
    };

    private static readonly Option<bool> Json = new("--json") { Description = "Print the server's JSON, for scripts" };

    private static readonly Argument<string> Id = new("ID") { Description = "The study's id" };

    /// <summary>The client verbs, each with the options they share.</summary>
    public static IEnumerable<Command> Create()
    {
        foreach (var verb in new[] { Submit(), List(), Status(), Trials(), Stop(), Delete(), Plot(), Ask(), Tell() })
        {
            verb.Options.Add(Server);
            verb.Options.Add(Key);
            verb.Options.Add(Json);
            yield return verb;
        }
    }

    private static Command Submit()
    {
        var file = new Argument<string>("STUDY") { Description = "The study file; its folder must lie in the server's workdir" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the study to end; exit 0 only if it succeeded" };
        var command = new Command("submit", "Submit a study file to the server and start it") { file, wait };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!);
            if (!File.Exists(path)) return Fail(2, $"no study file {path}");
            var content = new StringContent(await File.ReadAllTextAsync(path), Encoding.UTF8,
                path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "application/json"
                : path.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase) ? Service.StudyEndpoints.NotebookType
                : "application/yaml");
            var response = await client.PostAsync($"api/studies?dir={Uri.EscapeDataString(Path.GetDirectoryName(path)!)}", content);
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var study = await Read<StudyView>(response);
            Print(parse, study, $"Submitted study {study.Name} ({study.Id}); follow it with `tuner status {study.Id}`");
            if (!parse.GetValue(wait)) return 0;
            while (true)
            {
                await Task.Delay(1000);
                var polled = await client.GetAsync($"api/studies/{study.Id}");
                if (!polled.IsSuccessStatusCode) return await Refused(polled); // deleted meanwhile, or the server failed
                var current = await Read<StudyView>(polled);
                if (current.Status is "Running" or "Created") continue;
                Print(parse, current, Line(current));
                return current.Status == "Succeeded" ? 0 : 1;
            }
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "The studies on the server, newest first");
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var response = await client.GetAsync("api/studies");
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var studies = await Read<StudyView[]>(response);
            Print(parse, studies, studies.Length == 0 ? "No studies." : string.Join("\n", studies.Select(Line)));
            return 0;
        }));
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "One study at a glance") { Id };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var response = await client.GetAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}");
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var study = await Read<StudyView>(response);
            Print(parse, study, Line(study) + (study.Reason is { } reason ? $"\n  {reason}" : ""));
            return 0;
        }));
        return command;
    }

    private static Command Trials()
    {
        var status = new Option<string?>("--status") { Description = "Only trials of this status (Succeeded, Failed, Running, ...)" };
        var sort = new Option<string?>("--sort") { Description = "number, value (best first) or duration; a leading - reverses" };
        var limit = new Option<int?>("--limit") { Description = "At most this many (default 100)" };
        var after = new Option<string?>("--after") { Description = "The cursor a previous page printed as next" };
        var command = new Command("trials", "A page of a study's trials") { Id, status, sort, limit, after };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var query = new List<string>();
            if (parse.GetValue(status) is { } s) query.Add("status=" + Uri.EscapeDataString(s));
            if (parse.GetValue(sort) is { } o) query.Add("sort=" + Uri.EscapeDataString(o));
            if (parse.GetValue(limit) is { } l) query.Add("limit=" + l.ToString(CultureInfo.InvariantCulture));
            if (parse.GetValue(after) is { } a) query.Add("after=" + Uri.EscapeDataString(a));
            var response = await client.GetAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}/trials?{string.Join('&', query)}");
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var page = await Read<TrialPageView>(response);
            // Categories and errors are any text: a newline would break the table, and a bidirectional control reach the terminal.
            var lines = page.Trials.Select(t =>
                $"{t.Number,6}  {t.Status,-10} {string.Join(" ", t.Metrics.Select(m => $"{m.Key}={Format(m.Value)}"))}  " +
                string.Join(" ", t.Parameters.Select(p => $"{p.Key}={TunerServer.Printable(Convert.ToString(p.Value, CultureInfo.InvariantCulture))}")) +
                (t.Error is { } e ? $"  ({TunerServer.Printable(e)})" : ""));
            Print(parse, page, string.Join("\n", lines) + $"\n{page.Trials.Length} of {page.Total}" + (page.Next is { } next ? $"; next page: --after {next}" : ""));
            return 0;
        }));
        return command;
    }

    private static Command Stop()
    {
        var command = new Command("stop", "Stop a running study: its trials' processes are killed") { Id };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var response = await client.PostAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}/stop", null);
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var study = await Read<StudyView>(response);
            Print(parse, study, Line(study));
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var command = new Command("delete", "Delete a study (stopped first if it runs), its trials and run folders") { Id };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var response = await client.DeleteAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}");
            if (!response.IsSuccessStatusCode) return await Refused(response);
            Console.WriteLine($"Deleted study {parse.GetValue(Id)}.");
            return 0;
        }));
        return command;
    }

    private static Command Plot()
    {
        var kind = new Argument<string>("KIND") { Description = "history, parallel-coordinates, intermediate, slice, importance or contour" };
        var format = new Option<string>("--format") { Description = "svg or png", DefaultValueFactory = _ => "svg" };
        var output = new Option<string?>("--out") { Description = "The file to write (default: KIND.FORMAT)" };
        var trials = new Option<string?>("--trials") { Description = "intermediate: the trials to compare, like 3,7,9" };
        var parameters = new Option<string?>("--params") { Description = "contour: the two parameters, like x1,x2" };
        var command = new Command("plot", "Download a plot of a study") { Id, kind, format, output, trials, parameters };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var query = new List<string>();
            if (parse.GetValue(trials) is { } t) query.Add("trials=" + Uri.EscapeDataString(t));
            if (parse.GetValue(parameters) is { } p) query.Add("params=" + Uri.EscapeDataString(p));
            if (!Plots.Names.Contains(parse.GetValue(kind)))
                return Fail(2, $"no plot '{parse.GetValue(kind)}'; plots: {string.Join(", ", Plots.Names)}");
            if (parse.GetValue(format) is not ("svg" or "png")) return Fail(2, $"--format must be svg or png, got '{parse.GetValue(format)}'");
            var name = $"{parse.GetValue(kind)}.{parse.GetValue(format)}";
            var response = await client.GetAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}/plots/{name}?{string.Join('&', query)}");
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var path = parse.GetValue(output) ?? name;
            await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
            Console.WriteLine($"Wrote {path}");
            return 0;
        }));
        return command;
    }

    private static Command Ask()
    {
        var command = new Command("ask", "Ask an external study for a trial to run; prints it as JSON (number, id, parameters, attempt)") { Id };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var response = await client.PostAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}/trials", null);
            if (!response.IsSuccessStatusCode) return await Refused(response);
            Console.WriteLine(JsonSerializer.Serialize(await Read<AskedTrialView>(response), Views.Json));
            return 0;
        }));
        return command;
    }

    private static Command Tell()
    {
        var number = new Argument<int>("N") { Description = "The trial's number, as ask printed it" };
        var attempt = new Option<string>("--attempt") { Description = "The attempt ask printed", Required = true };
        var metrics = new Option<string[]>("--metric") { Description = "A metric as NAME=VALUE (the objective at least); repeat for more", AllowMultipleArgumentsPerToken = false };
        var failed = new Option<string?>("--failed") { Description = "The trial failed, for this reason (instead of --metric)" };
        var command = new Command("tell", "Tell an external study a trial's outcome: its metrics, or --failed REASON") { Id, number, attempt, metrics, failed };
        command.SetAction((parse, _) => Call(parse, async client =>
        {
            var told = parse.GetValue(metrics) ?? [];
            if ((told.Length == 0) == (parse.GetValue(failed) is null)) return Fail(2, "give either --metric NAME=VALUE (one or more) or --failed REASON");
            var values = new Dictionary<string, double>();
            foreach (var metric in told)
            {
                var cut = metric.IndexOf('=');
                if (cut <= 0 || !double.TryParse(metric[(cut + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                    return Fail(2, $"--metric: '{metric}' is not NAME=VALUE with a number");
                values[metric[..cut]] = value;
            }
            var body = new TellRequest(parse.GetValue(attempt), told.Length == 0 ? null : values, parse.GetValue(failed));
            var response = await client.PostAsJsonAsync($"api/studies/{Uri.EscapeDataString(parse.GetValue(Id)!)}/trials/{parse.GetValue(number)}/tell", body, Views.Json);
            if (!response.IsSuccessStatusCode) return await Refused(response);
            var trial = await Read<TrialView>(response);
            Print(parse, trial, $"Trial {trial.Number}: {trial.Status}");
            return 0;
        }));
        return command;
    }

    /// <summary>Runs a request against the server; a server that cannot be reached is exit code 3, with what was tried.</summary>
    private static async Task<int> Call(ParseResult parse, Func<HttpClient, Task<int>> request)
    {
        var server = parse.GetValue(Server)!;
        if (!Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            return Fail(2, $"--server: '{server}' is not an http:// or https:// URL");
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        if (parse.GetValue(Key) is { Length: > 0 } key) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        try
        {
            return await request(client);
        }
        catch (HttpRequestException e)
        {
            return Fail(3, $"cannot reach the tuner server at {server} ({e.Message}); start one with `tuner serve` or pass --server");
        }
    }

    /// <summary>Prints the server's ProblemDetails (every validation error for a 400) and maps the status to an exit code.</summary>
    private static async Task<int> Refused(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        string message;
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            message = root.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : text;
            if (root.TryGetProperty("title", out var title)) message = $"{title.GetString()}:\n  {message.Replace("\n", "\n  ")}";
        }
        catch (JsonException)
        {
            message = text;
        }
        return Fail(response.StatusCode switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge => 2,
            HttpStatusCode.Unauthorized => 3,
            _ => 1,
        }, $"{(int)response.StatusCode} {message}");
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"tuner: {message}");
        return code;
    }

    private static async Task<T> Read<T>(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Views.Json))!;

    private static void Print<T>(ParseResult parse, T value, string text) =>
        Console.WriteLine(parse.GetValue(Json) ? JsonSerializer.Serialize(value, Views.Json) : text);

    private static string Line(StudyView s) =>
        $"{s.Id}  {s.Name,-20} {s.Status,-10} {s.Done}/{s.MaxTrials} done, {s.Running} running, {s.Failed} failed{StudySnapshot.ProgressExtras(s.EarlyStopped, s.CachedSteps, s.Resources.Spent, s.Resources.MaxSteps, s.Resources.MaxTime)}" +
        (s.BestTrial is { } best ? $", best {s.Objective.Metric}={Format(best.Metrics.GetValueOrDefault(s.Objective.Metric))} (trial {best.Number})" : "");

    private static string Format(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "-";
}
