using System.Globalization;
using Tuning.Api.Reports;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Studies;

namespace Tuning.Api.Service;

/// <summary>
/// <c>/api/studies/{id}/plots/{kind}.svg</c> and <c>.png</c>: the plots <c>tuner run</c> writes, drawn on request.
/// A drawn plot is kept until a trial of its study ends, however it ends (succeeded, failed, stopped early or
/// cancelled), or the study does, so a finished study's page opens at once; a running trial's growing learning
/// curve is drawn again only then.
/// </summary>
public static class PlotEndpoints
{
    /// <summary>The most the kept plots may hold; past it they are all let go (a study's plots are drawn again on demand).</summary>
    private const long CachedBytes = 64L << 20;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Drawn = new();
    private static long _drawnBytes;

    public static void Map(WebApplication app) =>
        app.MapGet("/api/studies/{id}/plots/{file}", Plot)
            .WithTags("studies")
            .WithSummary("A plot of the study: history, parallel-coordinates, intermediate (?trials=3,7), slice, importance, contour (?params=x1,x2), edf, timeline; with several objectives or constraints pareto-front, hypervolume-history; .svg or .png")
            .Produces(StatusCodes.Status200OK, contentType: "image/svg+xml")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<IResult> Plot(string id, string file, string? trials, string? @params, HttpContext context, StudyService service)
    {
        var extension = Path.GetExtension(file);
        var kind = Path.GetFileNameWithoutExtension(file);
        if (extension is not (".svg" or ".png") || !Plots.Names.Contains(kind))
            return StudyEndpoints.Problem(StatusCodes.Status404NotFound, "No such plot",
                $"plots are {string.Join(", ", Plots.Names)}, each as .svg or .png; got '{TunerServer.Printable(file)}'");
        var numbers = new List<int>();
        foreach (var part in (trials ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                return StudyEndpoints.Problem(StatusCodes.Status400BadRequest, "Invalid query", $"trials must list trial numbers like 3,7,9; got '{TunerServer.Printable(trials)}'");
            numbers.Add(number);
        }
        var caller = StudyEndpoints.Visible(context);
        // The study's snapshot decides whether a kept drawing will do; only a new drawing reads every trial's record.
        if (!Guid.TryParse(id, out var guid) || await service.GetAsync(guid, caller) is not { } study)
            return StudyEndpoints.NotFound(id);
        var names = @params?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var version = $"{guid:N}/{file}?trials={string.Join(',', numbers)}&params={string.Join(',', names)}/{Version(study)}";
        if (Drawn.TryGetValue(version, out var cached)) return Image(cached, extension);
        if (await service.ReportAsync(guid, caller) is not { } report) return StudyEndpoints.NotFound(id);
        var spec = StudyFile.Parse(report.Source.Text, report.Source.Directory, readWarmStart: false);
        OxyPlot.PlotModel model;
        try
        {
            model = Plots.Build(kind, report.Study, report.Trials, spec, new PlotOptions(numbers, names));
        }
        catch (PlotException e)
        {
            return StudyEndpoints.Problem(StatusCodes.Status400BadRequest, "Cannot draw this plot", e.Message);
        }
        var image = new MemoryStream();
        if (extension == ".svg") Plots.WriteSvg(model, image);
        else Plots.WritePng(model, image);
        var bytes = image.ToArray();
        if (Interlocked.Add(ref _drawnBytes, bytes.Length) > CachedBytes)
        {
            Drawn.Clear();
            Interlocked.Exchange(ref _drawnBytes, bytes.Length);
        }
        Drawn[version] = bytes;
        return Image(bytes, extension);
    }

    /// <summary>
    /// What a study's plots are drawn from, as far as it changes them, read from its snapshot alone: its status and its
    /// trials by how they ended. Every ending counts, not only succeeded and failed: a trial stopped early or cancelled
    /// ends its learning curve as much as one that succeeded (a cancelled one leaves the trials running, which
    /// the cancelled are counted from). Reading every trial's record to make the key took 20-100 ms per request at
    /// 100,000 trials, for a drawing already kept.
    /// </summary>
    public static string Version(StudySnapshot study) =>
        $"{study.Status}/{study.Created}/{study.Running}/{study.Succeeded}/{study.Failed}/{study.EarlyStopped}";

    private static IResult Image(byte[] bytes, string extension) =>
        TypedResults.Bytes(bytes, extension == ".svg" ? "image/svg+xml" : "image/png");
}
