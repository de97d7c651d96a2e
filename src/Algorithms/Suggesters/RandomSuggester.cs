using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>Independent uniform samples of the unit cube (log-uniform for log parameters), the baseline every other search must beat.</summary>
public sealed class RandomSuggester(SearchSpace space, int seed) : ISuggester
{
    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context)
    {
        var random = new Random(Seeds.ForTrial(seed, context.TrialNumber));
        var point = new double[space.Dimensions];
        for (var i = 0; i < point.Length; i++) point[i] = random.NextDouble();
        return space.FromUnit(point);
    }
}
