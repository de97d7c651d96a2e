using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Orleans.Dashboard;
using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tuner;

namespace Tuning.Api.Service;

/// <param name="Urls">Where to listen, <c>;</c>-separated (Kestrel's form).</param>
/// <param name="AllowRemote">Listen beyond loopback without API keys (warned about).</param>
/// <param name="Cluster">The Redis cluster this server's silo joins; null for one silo on the embedded store.</param>
public sealed record ServerOptions(string Urls, string DataDirectory, string? KeysFile, string Workdir, bool AllowRemote, ClusterMembership? Cluster = null);

/// <summary>How a server's silo joins a cluster: its Redis, the address it is reached at, its ports (0: a free one).</summary>
public sealed record ClusterMembership(string Redis, string Advertise, int SiloPort, int GatewayPort);

/// <summary>
/// <c>tuner serve</c>: ASP.NET Core minimal APIs co-hosting the silo (one process, the embedded store), the
/// dashboard and the OpenAPI document. Studies that were running when the server last stopped go on by themselves.
/// </summary>
public static class TunerServer
{
    /// <summary>Builds the server; throws <see cref="InvalidOperationException"/> for options it must refuse.</summary>
    public static WebApplication Build(ServerOptions options, GpuSlots gpus)
    {
        var namespaces = options.KeysFile is { } keys ? Namespaces.Load(keys) : Namespaces.Open(options.Workdir);
        var remote = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries).Where(u => !IsLoopback(u)).ToArray();
        if (remote.Length > 0 && !namespaces.Keyed && !options.AllowRemote)
            throw new InvalidOperationException(
                $"refusing to listen on {string.Join(", ", remote)} without API keys: anyone who reaches it could run commands here. " +
                "Give --keys FILE, listen on loopback, or pass --allow-remote to accept the risk");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Urls);
        // A study file is at most StudyFile.MaxBytes, which the endpoint enforces itself (413 with a problem body). Kestrel's
        // own limit is higher: it is how much of a refused body is read and thrown away so that the client, still
        // sending, hears the 413 rather than a reset connection. Past it the connection is closed.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = DrainedBytes);
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        // Errors the framework answers by itself (no such route, a method or media type a route does not take) say
        // what was wrong too, as every error of the endpoints does.
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = problem =>
        {
            if (!string.IsNullOrEmpty(problem.ProblemDetails.Detail)) return;
            var request = problem.HttpContext.Request;
            var what = $"{request.Method} {Printable(request.Path.Value)}";
            problem.ProblemDetails.Detail = problem.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => $"nothing at {what}; the API is under /api/studies (see /openapi/v1.json)",
                StatusCodes.Status405MethodNotAllowed => $"{what}: this method is not allowed here (see /openapi/v1.json)",
                StatusCodes.Status415UnsupportedMediaType => $"{what}: {StudyEndpoints.SendStudyAs}, not '{Printable(request.ContentType)}'",
                StatusCodes.Status413PayloadTooLarge => $"{what}: the body is larger than this server takes",
                StatusCodes.Status400BadRequest => $"{what}: the request is malformed",
                _ => $"{what} failed",
            };
        });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = Reports.Views.Json.PropertyNamingPolicy;
            foreach (var converter in Reports.Views.Json.Converters) o.SerializerOptions.Converters.Add(converter);
        });
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            ApiDocument.Complete(document);
            return Task.CompletedTask;
        }));
        builder.Services.AddSingleton(namespaces);
        // The Orleans Dashboard for operators, on every silo (each server process is one).
        builder.UseOrleans(silo => (options.Cluster is { } cluster
            ? silo.UseCluster(cluster.Redis, options.DataDirectory, cluster.Advertise,
                cluster.SiloPort > 0 ? cluster.SiloPort : TuningSilo.FreePort(), cluster.GatewayPort > 0 ? cluster.GatewayPort : TuningSilo.FreePort(), gpus)
            : silo.UseEmbedded(options.DataDirectory, gpus, resumeStudies: true)).AddDashboard());

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // A study runs commands here, so requests from web pages elsewhere are refused: a changing request whose
        // Origin is not this server (cross-site request forgery), and, on a keyless loopback server, a Host that is
        // not a loopback name (DNS rebinding: a page whose name now points at 127.0.0.1).
        app.Use(async (context, next) =>
        {
            if (!namespaces.Keyed && !options.AllowRemote && !IsLoopbackHost(context.Request.Host.Host))
            {
                await StudyEndpoints.Problem(StatusCodes.Status400BadRequest, "Host not allowed",
                    $"this server answers loopback names only (localhost, 127.0.0.1, [::1]), not '{context.Request.Host.Host}'").ExecuteAsync(context);
                return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && IsCrossSite(context.Request))
            {
                await StudyEndpoints.Problem(StatusCodes.Status403Forbidden, "Cross-site request refused",
                    "requests that change studies are taken from this server's own pages and from clients that send no Origin").ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        app.Use(async (context, next) =>
        {
            var operators = context.Request.Path.StartsWithSegments(OrleansDashboardPath);
            if (!operators && !context.Request.Path.StartsWithSegments("/api"))
            {
                await next(context); // the dashboard's files and the OpenAPI document are public; the dashboard asks for a key itself
                return;
            }
            var key = new[]
                {
                    context.Request.Headers["X-Api-Key"].FirstOrDefault(),
                    context.Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null,
                    // A browser cannot add headers to the Orleans Dashboard's own requests: our dashboard sets this cookie.
                    operators ? context.Request.Cookies["tuner-key"] : null,
                }.FirstOrDefault(k => !string.IsNullOrWhiteSpace(k));
            if (namespaces.Resolve(key) is not { } caller)
            {
                await StudyEndpoints.Problem(StatusCodes.Status401Unauthorized, "No valid API key",
                    "send a key of this server as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'").ExecuteAsync(context);
                return;
            }
            if (operators && !caller.Operator)
            {
                await StudyEndpoints.Problem(StatusCodes.Status403Forbidden, "Operators only",
                    "the Orleans Dashboard shows every namespace's grains: only keys of a namespace marked \"operator\": true open it").ExecuteAsync(context);
                return;
            }
            context.Items[typeof(NamespaceConfig)] = caller;
            await next(context);
        });
        StudyEndpoints.Map(app);
        TrialEndpoints.Map(app);
        StudyEvents.Map(app);
        PlotEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        app.MapOpenApi();
        app.MapOrleansDashboard(OrleansDashboardPath).ExcludeFromDescription();
        return app;
    }

    /// <summary>The most of a request body Kestrel reads (and discards once the endpoint has refused it): 64 MiB.</summary>
    public const long DrainedBytes = 64L << 20;

    /// <summary>Where the Orleans Dashboard (silos, grains, calls) is served, for operators.</summary>
    public const string OrleansDashboardPath = "/orleans";

    /// <summary>Text from a request as an answer may quote it: at most 200 characters, control characters escaped.</summary>
    public static string Printable(string? text)
    {
        text ??= "";
        if (text.Length > 200) text = text[..200] + "…";
        return string.Concat(text.Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069')
            ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static bool IsLoopbackHost(string host) =>
        host is "localhost" || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));

    /// <summary>An Origin other than the request's own host and port, or a browser saying the request is cross-site.</summary>
    private static bool IsCrossSite(HttpRequest request)
    {
        if (request.Headers["Sec-Fetch-Site"].FirstOrDefault() == "cross-site") return true;
        var origin = request.Headers.Origin.FirstOrDefault();
        return origin is not null && (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) ||
                                      !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsLoopback(string url) =>
        IsLoopbackHost(Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) ? uri.Host : "");
}
