using System.Reflection;

namespace Tuning.Api.Service;

/// <summary>The dashboard's files, served from the executable itself: no CDN, it works offline.</summary>
public static class DashboardEndpoints
{
    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    public static void Map(WebApplication app)
    {
        var files = typeof(DashboardEndpoints).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal))
            .ToDictionary(n => n["dashboard/".Length..], Read);
        app.MapGet("/", () => File(files, "index.html")).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file) => File(files, file)).ExcludeFromDescription();
    }

    private static IResult File(Dictionary<string, byte[]> files, string name) =>
        files.TryGetValue(name, out var bytes)
            ? TypedResults.Bytes(bytes, ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream"))
            : StudyEndpoints.Problem(StatusCodes.Status404NotFound, "No such file", $"the dashboard has no file '{TunerServer.Printable(name)}'");

    private static byte[] Read(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
