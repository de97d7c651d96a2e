using Tuning.Algorithms.Sampling;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>
/// Scrambled Sobol points: trial n gets point n, so the trials of any prefix of the study cover the space
/// more evenly than random ones, and the suggestion depends on nothing but the seed and the trial number.
/// </summary>
public sealed class SobolSuggester(SearchSpace space, int seed, bool scramble) : ISuggester
{
    private readonly SobolSequence _sequence = new(space.Dimensions, scramble ? seed : null);

    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context) =>
        space.FromUnit(_sequence.Point(context.TrialNumber));
}
