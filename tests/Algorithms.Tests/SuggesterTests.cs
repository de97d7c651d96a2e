using Tuning.Algorithms.Space;
using Tuning.Algorithms.Suggesters;

namespace Tuning.Algorithms.Tests;

public class SuggesterTests
{
    internal static readonly SearchSpace Mixed = new([
        new DoubleParameter("x", -5, 10),
        new DoubleParameter("lr", 1e-5, 1e-1, Log: true),
        new IntParameter("layers", 1, 8),
        new DiscreteParameter("batch", [16, 32, 64, 128]),
        new CategoricalParameter("optimizer", ["sgd", "adam"]),
    ]);

    internal static SuggestionContext Context(int number) => new(number, [], []);

    [Fact]
    public void Random_search_gives_the_same_suggestions_for_the_same_seed()
    {
        var first = new RandomSuggester(Mixed, 42);
        var second = new RandomSuggester(Mixed, 42);
        var other = new RandomSuggester(Mixed, 43);
        for (var n = 0; n < 20; n++)
        {
            Assert.Equal(first.Suggest(Context(n)), second.Suggest(Context(n)));
            Assert.NotEqual(first.Suggest(Context(n))["x"], other.Suggest(Context(n))["x"]);
        }
        Assert.NotEqual(first.Suggest(Context(0))["x"], first.Suggest(Context(1))["x"]);
    }

    [Fact]
    public void Random_search_returns_valid_values_of_each_type()
    {
        var random = new RandomSuggester(Mixed, 1);
        for (var n = 0; n < 200; n++)
        {
            var s = random.Suggest(Context(n));
            Assert.InRange(s["x"].Number, -5, 10);
            Assert.InRange(s["lr"].Number, 1e-5, 1e-1);
            Assert.Equal(Math.Round(s["layers"].Number), s["layers"].Number);
            Assert.Contains(s["batch"].Number, new[] { 16.0, 32, 64, 128 });
            Assert.Contains(s["optimizer"].Category, new[] { "sgd", "adam" });
        }
    }

    [Fact]
    public void Grid_walks_the_cartesian_product_without_duplicates_and_then_is_exhausted()
    {
        var space = new SearchSpace([
            new DoubleParameter("x", 0, 1, Step: 0.5),
            new CategoricalParameter("c", ["a", "b"]),
            new IntParameter("n", 1, 2),
        ]);
        var grid = new GridSuggester(space);
        Assert.Equal(12, grid.Size);
        var points = Enumerable.Range(0, 12).Select(n => grid.Suggest(Context(n))!).ToArray();
        Assert.Equal(12, points.Select(p => $"{p["x"]}|{p["c"]}|{p["n"]}").Distinct().Count());
        Assert.Equal(["0", "a", "1"], new[] { points[0]["x"], points[0]["c"], points[0]["n"] }.Select(v => v.ToString()));
        Assert.Equal(["1", "b", "2"], new[] { points[11]["x"], points[11]["c"], points[11]["n"] }.Select(v => v.ToString()));
        Assert.Null(grid.Suggest(Context(12)));
        Assert.Equal(points[5], new GridSuggester(space).Suggest(Context(5)));
    }

    [Fact]
    public void Grid_refuses_a_double_without_a_step()
    {
        var errors = AlgorithmCatalog.Find("grid")!.Validate(new Dictionary<string, string>(), new SearchSpace([new DoubleParameter("x", 0, 1)]));
        var error = Assert.Single(errors);
        Assert.Equal("parameters[0].step", error.Path);
        Assert.Contains("step", error.Message);
    }

    [Fact]
    public void Unknown_settings_are_refused_with_their_name()
    {
        var errors = AlgorithmCatalog.Find("random")!.Validate(new Dictionary<string, string> { ["gamma"] = "3" }, Mixed);
        Assert.Equal("algorithm.settings.gamma", Assert.Single(errors).Path);
    }
}
