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
    /// <param name="maxTrials">The study's budget (<c>budget.maxTrials</c>), where known: algorithms that spend a
    /// start-up phase before modelling size it from the budget as well as the space, so a small budget is not all
    /// start-up. Explicit settings win over it.</param>
    public abstract ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed, int? maxTrials = null);
}

/// <summary>Every algorithm a study file may name.</summary>
public static class AlgorithmCatalog
{
    private static readonly Algorithm[] All = [new RandomAlgorithm(), new GridAlgorithm(), new SobolAlgorithm(),
        new SettingsAlgorithm<TpeSettings>("tpe", TpeSettings.Read, (space, seed, settings) => new TpeSuggester(space, seed, settings)),
        new BayesianAlgorithm(),
        new SettingsAlgorithm<Nsga2Settings>("nsga2", Nsga2Settings.Read, (space, seed, settings) => new Nsga2Suggester(space, seed, settings))];

    public static IEnumerable<string> Names => All.Select(a => a.Name);

    public static Algorithm? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    private sealed class RandomAlgorithm : Algorithm
    {
        public override string Name => "random";

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space) =>
            new SettingsReader(settings).Finish();

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed, int? maxTrials = null) =>
            new RandomSuggester(space, seed);
    }

    private sealed class GridAlgorithm : Algorithm
    {
        public override string Name => "grid";

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space)
        {
            var errors = new SettingsReader(settings).Finish().ToList();
            for (var i = 0; i < space.Dimensions; i++)
                if (space.Parameters[i].GridSize is null)
                    errors.Add(new AlgorithmError($"parameters[{i}].step",
                        $"grid search needs a step for double parameter '{space.Parameters[i].Name}'"));
            return errors;
        }

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed, int? maxTrials = null) =>
            new GridSuggester(space);
    }

    private sealed class SobolAlgorithm : Algorithm
    {
        public override string Name => "sobol";

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space)
        {
            var reader = new SettingsReader(settings);
            reader.Bool("scramble", true);
            var errors = reader.Finish().ToList();
            if (space.Dimensions > Sampling.SobolSequence.MaxDimensions)
                errors.Add(new AlgorithmError("parameters", $"sobol supports up to {Sampling.SobolSequence.MaxDimensions} parameters, got {space.Dimensions}"));
            return errors;
        }

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed, int? maxTrials = null) =>
            new SobolSuggester(space, seed, new SettingsReader(settings).Bool("scramble", true));
    }

    private sealed class BayesianAlgorithm : Algorithm
    {
        public override string Name => "bayesian";

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space)
        {
            var reader = new SettingsReader(settings);
            BayesianSettings.Read(reader, space);
            return reader.Finish();
        }

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed, int? maxTrials = null) =>
            new BayesianSuggester(space, seed, BayesianSettings.Read(new SettingsReader(settings), space, maxTrials));
    }

    /// <summary>An algorithm whose settings one function reads from the study file: validating them is reading them.</summary>
    private sealed class SettingsAlgorithm<TSettings>(string name, Func<SettingsReader, TSettings> read, Func<SearchSpace, int, TSettings, ISuggester> create) : Algorithm
    {
        public override string Name => name;

        public override IReadOnlyList<AlgorithmError> Validate(IReadOnlyDictionary<string, string> settings, SearchSpace space)
        {
            var reader = new SettingsReader(settings);
            read(reader);
            return reader.Finish();
        }

        public override ISuggester Create(IReadOnlyDictionary<string, string> settings, SearchSpace space, int seed, int? maxTrials = null) =>
            create(space, seed, read(new SettingsReader(settings)));
    }
}
