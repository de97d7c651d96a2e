namespace Tuning.Api.Service;

/// <summary><c>/api/studies/{id}/plots/{kind}.svg</c> and <c>.png</c>.</summary>
public static class PlotEndpoints
{
    public static void Map(WebApplication app)
    {
    }
}
