using Tuning.Algorithms.Sampling;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>Independent uniform samples of the unit cube (log-uniform for log parameters), the baseline every other search must beat.</summary>
public sealed class RandomSuggester(SearchSpace space, int seed) : ISuggester
{
    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context)
    {
        var random = new Random(Seeds.ForTrial(seed, context.TrialNumber));
        return space.FromUnit(UniformPoint.Draw(random, space.Dimensions));
    }
}
