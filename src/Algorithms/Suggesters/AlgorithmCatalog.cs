using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>
/// A suggestion algorithm as a study file names it: it validates its settings against a search space
/// (every problem at once) and builds the suggester.
/// </summary>
public abstract class Algorithm
{
    public abstract string Name { get; }

    public abstract IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space);

    /// <summary>Builds the suggester; call only with settings that <see cref="Validate"/> accepted.</summary>
    public abstract ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed);
}

/// <summary>Every algorithm a study file may name.</summary>
public static class AlgorithmCatalog
{
    private static readonly Algorithm[] All = [new RandomAlgorithm(), new GridAlgorithm()];

    public static IEnumerable<string> Names => All.Select(a => a.Name);

    public static Algorithm? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    private sealed class RandomAlgorithm : Algorithm
    {
        public override string Name => "random";

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space) =>
            new SettingsReader(settings).Finish();

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed) =>
            new RandomSuggester(space, seed);
    }

    private sealed class GridAlgorithm : Algorithm
    {
        public override string Name => "grid";

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space)
        {
            var errors = new SettingsReader(settings).Finish().ToList();
            for (var i = 0; i < space.Dimensions; i++)
                if (space.Parameters[i].GridValues() is null)
                    errors.Add(new AlgorithmError($"parameters[{i}].step",
                        $"grid search needs a step for double parameter '{space.Parameters[i].Name}'"));
            return errors;
        }

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed) =>
            new GridSuggester(space);
    }
}
