using Tuning.Algorithms.MultiObjective;
using Tuning.Algorithms.Acquisition;
using Tuning.Algorithms.Models;
using Tuning.Algorithms.Sampling;
using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Suggesters;

/// <summary>The settings of <c>bayesian</c>, validated by <see cref="AlgorithmCatalog"/>.</summary>
/// <param name="InitialTrials">Trials drawn from a scrambled Sobol sequence before the model is used; default
/// <see cref="DefaultInitialTrials"/>.</param>
/// <param name="Acquisition"><c>logei</c> (default: log expected improvement, its noisy variant where the fit finds
/// noise; with 2 or 3 objectives, log expected hypervolume improvement) or <c>ucb</c> (with several objectives, on
/// ParEGO's scalarisation).</param>
/// <param name="Beta">UCB's exploration weight: the bound is μ − √β·σ.</param>
/// <param name="Candidates">Quasi-random points scored before local search, where the study file sets it; else
/// <see cref="CandidatesAt"/> decides.</param>
/// <param name="Restarts">Starts of the hyperparameter fit, the warm start included.</param>
public sealed record BayesianSettings(int InitialTrials, string Acquisition, double Beta, int? Candidates, int Restarts)
{
    /// <summary>
    /// How many quasi-random candidates are scored with <paramref name="observations"/> observations: the study file's
    /// number as it is; by default 1024, and 256 from 300 observations on, where scoring each costs O(n) in the batch and
    /// the local search from the best few does the fine work.
    /// </summary>
    public int CandidatesAt(int observations) => Candidates ?? (observations > 300 ? 256 : 1024);

    /// <param name="maxTrials">The study's budget, where known: it caps the default initial design.</param>
    public static BayesianSettings Read(SettingsReader reader, SearchSpace space, int? maxTrials = null) => new(
        reader.Int("initialTrials", DefaultInitialTrials(space.Dimensions, maxTrials), 1),
        reader.Choice("acquisition", "logei", "logei", "ucb"),
        reader.Double("beta", 2.0, 1e-6, 1e3),
        reader.OptionalInt("candidates", 16, 1_000_000),
        reader.Int("restarts", 3, 1, 50));

    /// <summary>
    /// The initial design's size when the study file does not set it: 2(d+1) (BoTorch's habit), but at most a quarter of
    /// the budget and never fewer than 5: min(2(d+1), max(5, ⌊maxTrials/4⌋)). Without the cap a 9-parameter study of 20
    /// trials would be all Sobol points and its model would never run; with it, 5 Sobol points and 15 model-guided
    /// trials. Small designs do well in BO (Bossek et al., GECCO 2020, found 10-25% of the budget a good share), a quarter
    /// and a third were within noise of each other on `regret --suite small` (50 seeds; a quarter better on Hartmann6
    /// with 20 trials, 1.79 against 1.97), and 5 points is about the least a
    /// GP with a lengthscale per parameter and its priors fits sensibly. For DESIGN.md's budgets (50 and 100 trials) the
    /// cap never bites: the design stays 2(d+1).
    /// </summary>
    public static int DefaultInitialTrials(int dimensions, int? maxTrials)
    {
        var bySpace = 2 * (dimensions + 1);
        return maxTrials is { } budget ? Math.Min(bySpace, Math.Max(5, budget / 4)) : bySpace;
    }
}

/// <summary>
/// Bayesian optimisation with a Gaussian process (Matérn 5/2, a lengthscale per dimension, fitted by maximum
/// a posteriori with L-BFGS) and log expected improvement (log noisy expected improvement where the fit reads the
/// data as noisy; or a confidence bound, as the settings say), on the unit cube the search space maps to. It only
/// wires its parts: <see cref="GaussianProcess"/> models, <see cref="IAcquisition"/> scores,
/// <see cref="AcquisitionOptimizer"/> maximises. Trials still running are "kriging believer" fantasies: they
/// enter the model at their predicted value, which takes away the improvement expected there, so parallel
/// suggestions spread out instead of coinciding. Failed trials are left out of the fit; where trials were stopped
/// early, the fit is on one fidelity (<see cref="ObservationFidelity"/>). The initial design ends
/// after <see cref="BayesianSettings.InitialTrials"/> trials, a warm start's observations counted among them.
/// With 2 or 3 objectives, a GP per objective and log expected hypervolume improvement
/// (<see cref="LogExpectedHypervolumeImprovement"/>); with 4 or more, or with <c>ucb</c>, ParEGO (<see cref="Chebyshev"/>). Under constraints, a GP
/// per constraint and the probability of feasibility multiplies the acquisition (<see cref="FeasibilityWeighted"/>).
/// </summary>
public sealed class BayesianSuggester : ISuggester
{
    private readonly SearchSpace _space;
    private readonly int _seed;
    private readonly BayesianSettings _settings;
    private readonly SobolSequence? _sobol;
    private readonly ModelInputs _inputs;
    private readonly GpPriors _priors;

    /// <summary>From this many observations on, fits between checkpoints start from the last checkpoint's fit alone.</summary>
    private const int WarmFitsFrom = 50;

    /// <summary>
    /// From this many observations on there are no fits between checkpoints: the hyperparameters are the last
    /// checkpoint's, and the model's factor grows by one row per observation instead of being refactorised. A fit
    /// (hundreds of likelihood evaluations at O(m³)) and a factorisation (O(n³)) per suggestion are what made a
    /// suggestion at a thousand observations take over half a second; with a few hundred observations one more
    /// moves the fitted hyperparameters very little. From here on, too, the acquisition's local search starts from the
    /// best three candidates rather than five: each of its steps costs O(n²).
    /// </summary>
    internal const int FixedFitsFrom = 200;

    /// <summary>Below <see cref="FixedFitsFrom"/> a checkpoint fit every this many observations.</summary>
    private const int CheckpointEvery = 10;

    /// <summary>What a modelled output (the objective, the scalarisation, or each of several objectives) keeps between suggestions.</summary>
    private sealed class OutputCache
    {
        /// <summary>The last checkpoint fit, the observations and the lengthscale limit it was fitted under, kept so the fits after it need not repeat it.</summary>
        public (double[][] X, double[] Losses, GpHyperparameters Fit, double MaxLengthscale)? Checkpoint;

        /// <summary>The last suggestion's model of the observations, extended by the next suggestion while its hyperparameters stand.</summary>
        public GaussianProcess? ObservedModel;
    }

    private readonly List<OutputCache> _outputs = [];

    /// <summary>The lengthscale limit of this suggestion's fits (<see cref="LengthscaleLimit"/>).</summary>
    private double _maxLengthscale = GaussianProcess.LengthscaleCap;

    /// <summary>
    /// The longest lengthscale the fits for a suggestion may find: <see cref="GaussianProcess.LengthscaleCap"/> for one
    /// objective; <see cref="GaussianProcess.UncappedLengthscaleLimit"/> with several, or under constraints (known by the
    /// trials' values of every objective; with the cap, a test of three objectives and one of a constraint failed, and
    /// on the multi-objective benchmark the constrained problem's hypervolume fell from 0.327 to 0.282 while the other
    /// three moved under 1.5%), and once a trial was stopped early. On LCBench with asha the cap took the five tuning
    /// tasks' median distances from 13.0 points in all to 18.0 (seeds 0-9; all five worse), where without early
    /// stopping it changed little (23.8 to 23.4). Our reading, not measured: the model of a few full-length trials,
    /// asked for the hundreds of trials the first rung mostly stops, does better following a trend to the space's
    /// corners, where LCBench's best configurations lie.
    /// </summary>
    public static double LengthscaleLimit(SuggestionContext context) =>
        context.Completed.Any(o => o.Losses is not null || o.StoppedAt is not null) ? GaussianProcess.UncappedLengthscaleLimit : GaussianProcess.LengthscaleCap;

    /// <summary>Output <paramref name="index"/>'s caches, made on first use.</summary>
    private OutputCache Output(int index)
    {
        while (_outputs.Count <= index) _outputs.Add(new OutputCache());
        return _outputs[index];
    }

    public BayesianSuggester(SearchSpace space, int seed, BayesianSettings settings)
    {
        _space = space;
        _seed = seed;
        _settings = settings;
        _sobol = space.Dimensions <= SobolSequence.MaxDimensions ? new SobolSequence(space.Dimensions, seed) : null;
        _inputs = new ModelInputs(space);
        _priors = GpPriors.ForDimensions(space.Dimensions);
    }

    public IReadOnlyDictionary<string, ParameterValue> Suggest(SuggestionContext context)
    {
        // Several objectives: the trials with every objective's value; one: the highest fidelity with enough trials.
        var several = context.Completed.Any(o => o.Losses is not null);
        var observed = several
            ? Observation.WithEveryObjective(context.Completed).Where(o => o.Objectives!.All(double.IsFinite)).ToArray()
            : ObservationFidelity.Highest(context.Completed, _space.Dimensions).ToArray();
        _maxLengthscale = LengthscaleLimit(context);
        var random = new Random(Seeds.ForTrial(_seed, context.TrialNumber));
        // A warm start's observations take the place of initial-design points: 30 of them and the model runs at trial 0.
        if (context.TrialNumber + context.WarmStarted < _settings.InitialTrials || observed.Length < 2)
            return InitialDesign(context, random);

        var x = observed.Select(o => _inputs.ToFeatures(_space.ToUnit(o.Parameters))).ToArray();
        var taken = context.Pending.Select(p => _inputs.ToFeatures(_space.ToUnit(p))).ToArray();
        var objectives = several ? observed[0].Losses!.Count : 1;
        // One objective under constraints also carries Losses (of one), and stays with its expected improvement.
        var (acquisition, ranking) = objectives is >= 2 and <= HypervolumeUpTo && _settings.Acquisition == "logei"
            ? HypervolumeImprovement(x, observed, taken, context.References)
            : OneOutput(x, observed, taken, several, context.TrialNumber);
        if (observed[0].Excesses is { Count: > 0 } constraints)
            acquisition = new FeasibilityWeighted(acquisition, Enumerable.Range(0, constraints.Count).Select(c => ConstraintModel(x, observed, c)).ToArray());
        var ranked = AcquisitionOptimizer.Maximize(acquisition!, Candidates(x, ranking, context.TrialNumber, random), _inputs.Categorical, _inputs.Upper,
            localStarts: x.Length < FixedFitsFrom ? 5 : 3);

        // Every observed point is taken, those of a fidelity the model left out too.
        var seen = new HashSet<string>(context.Completed.Where(o => o.Loss is { } loss && double.IsFinite(loss))
            .Select(o => _inputs.ToFeatures(_space.ToUnit(o.Parameters))).Concat(taken).Select(Key));
        foreach (var (point, _) in ranked)
        {
            var parameters = _space.FromUnit(_inputs.FromFeatures(point));
            if (seen.Add(Key(_inputs.ToFeatures(_space.ToUnit(parameters))))) return parameters;
        }
        return InitialDesign(context, random);
    }

    /// <summary>
    /// One modelled output: the objective, or with several objectives beyond <see cref="HypervolumeUpTo"/> (or under
    /// <c>ucb</c>) a random Chebyshev scalarisation of them per trial (ParEGO). The acquisition is null where no trial
    /// is feasible yet; the ranking orders the observations best first for the candidates around them.
    /// </summary>
    private (IAcquisition? Acquisition, double[] Ranking) OneOutput(double[][] x, Observation[] observed, double[][] taken, bool several, int trialNumber)
    {
        var objectives = several ? observed[0].Losses!.Count : 1;
        var losses = several ? Scalarised(observed, Chebyshev.RandomWeights(objectives, new Random(Seeds.ForTrial(_seed ^ WeightsSalt, trialNumber))))
            : observed.Select(o => o.Loss!.Value).ToArray();
        var y = GaussianProcess.Standardise(losses);
        // From the checkpoint fits on, the hyperparameters are fitted to the equal-weight scalarisation, which stays the
        // same from trial to trial, so checkpoints are reused as with one objective; each trial's own scalarisation is
        // then conditioned on with them. A fit per trial cost 2 s at 100 observations and 8.5 s at 300.
        var fitted = several && x.Length >= WarmFitsFrom ? Scalarised(observed, Enumerable.Repeat(1.0 / objectives, objectives).ToArray()) : losses;
        var hyperparameters = FitHyperparameters(x, fitted, GaussianProcess.Standardise(fitted), Output(0));
        var model = Model(x, y, hyperparameters, Output(0));

        // Under constraints, the best feasible trial is the one to improve on; with none, there is nothing to improve on yet.
        var incumbent = y.Where((_, i) => observed[i].Violation == 0).DefaultIfEmpty(double.NaN).Min();
        if (taken.Length > 0)
        {
            // Kriging believer: a running trial is taken to return what the model predicts, as if observed.
            var believed = taken.Select(p => model.Predict(p).Mean).ToArray();
            model = model.Extend(taken, [.. y, .. believed]);
            incumbent = Math.Min(incumbent, believed.Min());
        }

        IAcquisition? acquisition = _settings.Acquisition == "ucb" ? new UpperConfidenceBound(model, _settings.Beta)
            : double.IsNaN(incumbent) ? null
            : NoiseInferred(hyperparameters) ? new LogNoisyExpectedImprovement(model, Baseline(model), IncumbentSamples,
                new Random(Seeds.ForTrial(_seed ^ IncumbentSalt, trialNumber)))
            : new LogExpectedImprovement(model, incumbent);
        return (acquisition, y);
    }

    /// <summary>Up to this many objectives the search maximises expected hypervolume improvement; beyond, ParEGO: with
    /// 4 the boxes of <see cref="NonDominatedBoxes"/> number (n + 1)³ for a front of n points.</summary>
    private const int HypervolumeUpTo = 3;

    /// <summary>
    /// Log expected hypervolume improvement from a GP per objective (standardised losses, each fitted on the checkpoint
    /// schedule of its own), over the front of the feasible trials' posterior means; a running trial is believed to
    /// return each model's mean there (kriging believer) and joins the front so. The reference point is the study
    /// file's where it gives one; else the front's worst value per objective plus a tenth of its range
    /// (<see cref="Hypervolume.DerivedReference"/> of the front, BoTorch's heuristic; measured against the same rule over
    /// every feasible trial, as the study's reported hypervolume derives it, in experiments/results/2026-12-05-multi-objective-ehvi.md).
    /// With no feasible trial yet there is no front, and the acquisition is null. The ranking, for the candidates'
    /// centres, is by constrained non-dominated rank, then crowding distance, most isolated first: ordering each front
    /// by hypervolume contribution (<see cref="Pareto.BestFirst"/>) did as well on seeds 0-9 and took 10-80 ms of a
    /// 3-objective suggestion.
    /// </summary>
    private (IAcquisition? Acquisition, double[] Ranking) HypervolumeImprovement(double[][] x, Observation[] observed, double[][] taken, IReadOnlyList<double?>? references)
    {
        var objectives = observed[0].Losses!.Count;
        var models = new GaussianProcess[objectives];
        var given = new double?[objectives];
        for (var k = 0; k < objectives; k++)
        {
            var losses = observed.Select(o => o.Losses![k]).ToArray();
            var y = GaussianProcess.Standardise(losses);
            var (mean, sd) = GaussianProcess.Standardisation(losses);
            given[k] = (references?[k] - mean) / sd;
            models[k] = Model(x, y, FitHyperparameters(x, losses, y, Output(k)), Output(k));
            // Kriging believer, as with one objective; conditioned on its own mean, the model's means stay as they were.
            if (taken.Length > 0) models[k] = models[k].Extend(taken, [.. y, .. models[k].Means(taken)]);
        }
        var feasible = x.Where((_, i) => observed[i].Violation == 0).ToArray();
        var points = observed.Select(o => o.Losses!).ToArray();
        var ranks = Pareto.Ranks(points, observed.Select(o => o.Violation).ToArray());
        var crowding = Pareto.CrowdingWithinFronts(points, ranks);
        var order = Enumerable.Range(0, observed.Length).OrderBy(i => ranks[i]).ThenByDescending(i => crowding[i]).ToArray();
        var ranking = new double[observed.Length];
        for (var at = 0; at < order.Length; at++) ranking[order[at]] = at;
        if (feasible.Length == 0) return (null, ranking);
        var believedAt = feasible.Concat(taken).ToArray();
        var means = models.Select(model => model.Means(believedAt)).ToArray();
        var believed = Enumerable.Range(0, believedAt.Length).Select(i => (IReadOnlyList<double>)means.Select(m => m[i]).ToArray()).ToArray();
        var front = Pareto.NonDominated(believed).Select(i => believed[i]).ToArray();
        var derived = Hypervolume.DerivedReference(front);
        var reference = Enumerable.Range(0, objectives).Select(k => given[k] ?? derived[k]).ToArray();
        return (new LogExpectedHypervolumeImprovement(models, new NonDominatedBoxes(front, reference)), ranking);
    }

    private static double[] Scalarised(Observation[] observed, double[] weights) =>
        Chebyshev.Scalarise(observed.Select(o => o.Losses!).ToArray(), weights);

    /// <summary>Salts the seed of ParEGO's weights, so they are drawn independently of the trial's other random choices.</summary>
    private const int WeightsSalt = 0x5EED_CEB1;

    /// <summary>
    /// A GP of constraint <paramref name="c"/>'s excess, standardised, with the bound 0 in the same units. A metric a trial
    /// stopped early never reported counts as the largest excess observed: it did not hold.
    /// </summary>
    private ConstraintModel ConstraintModel(double[][] x, Observation[] observed, int c)
    {
        var excesses = observed.Select(o => o.Excesses![c]).ToArray();
        var largest = excesses.Where(double.IsFinite).DefaultIfEmpty(1).Max();
        excesses = excesses.Select(e => double.IsFinite(e) ? e : largest).ToArray();
        var y = GaussianProcess.Standardise(excesses);
        var (mean, sd) = GaussianProcess.Standardisation(excesses);
        return new ConstraintModel(GaussianProcess.Create(x, y, _inputs.Categorical, FullFit(x, y)), -mean / sd);
    }

    /// <summary>
    /// Trial n's design point: Sobol point n, unless on the space's grid (ints, steps, categories) it falls on a point
    /// observed or pending already (with parallel trials on a small discrete space, many would: eight clients asking at
    /// once were handed a repeat). Then uniform draws of the trial's own seeded generator stand in (not later Sobol
    /// points: n + 2^k differs from n only below 2^-k, the same grid point): the design stays a function of the trial
    /// number and the points taken.
    /// </summary>
    private IReadOnlyDictionary<string, ParameterValue> InitialDesign(SuggestionContext context, Random random)
    {
        var taken = context.Completed.Select(o => o.Parameters).Concat(context.Pending)
            .Select(p => Key(_inputs.ToFeatures(_space.ToUnit(p)))).ToHashSet();
        IReadOnlyDictionary<string, ParameterValue>? first = null;
        for (var detour = 0; detour < 64; detour++)
        {
            var point = detour == 0 && _sobol is not null ? _sobol.Point(context.TrialNumber) : UniformPoint.Draw(random, _space.Dimensions);
            var parameters = _space.FromUnit(point);
            first ??= parameters;
            if (!taken.Contains(Key(_inputs.ToFeatures(_space.ToUnit(parameters))))) return parameters;
        }
        // Nearly every point is taken (a space smaller than the study): a repeat is all there is.
        return first!;
    }

    /// <summary>
    /// The GP's hyperparameters for these observations, a function of the observations (in the order given) and
    /// the seed alone, never of which suggestions came before: a study killed and resumed must suggest what an
    /// uninterrupted one would. While the study is young every fit uses every start (cheap, and the posterior
    /// moves most then). Later, every tenth observation is a checkpoint fitted with every start, so a poor local
    /// optimum is left behind, and the fits between refine the last checkpoint's fit alone, recomputing that
    /// checkpoint when it is not in memory (after a restart) or its observations changed.
    /// </summary>
    private GpHyperparameters FitHyperparameters(double[][] x, double[] losses, double[] y, OutputCache cache)
    {
        var n = x.Length;
        if (n < WarmFitsFrom) return FullFit(x, y);
        var checkpoint = CheckpointFit(x, losses, CheckpointCount(n), cache);
        if (n == CheckpointCount(n) || n >= FixedFitsFrom) return checkpoint;
        var random = new Random(Seeds.ForTrial(_seed ^ FitSalt, n));
        return GaussianProcess.Fit(TrainingData.Subset(x, y, _inputs.Categorical, random), checkpoint, random, restarts: 1, _priors, MaxNoiseVariance,
            maxLengthscale: _maxLengthscale);
    }

    /// <summary>
    /// How many of n observations the checkpoint in force was fitted on: a multiple of ten below
    /// <see cref="FixedFitsFrom"/>, then of the power of two nearest below n/10 (16 from 200, 64 from 640 observations),
    /// so a study refits about every tenth of its size and the full fit's cost per suggestion stays flat as it grows.
    /// </summary>
    internal static int CheckpointCount(int n)
    {
        var every = n < FixedFitsFrom ? CheckpointEvery : Math.Max(CheckpointEvery, 1 << (int)Math.Log2(n / 10));
        return n - n % every;
    }

    /// <summary>
    /// The model of the observations. While the hyperparameters are a checkpoint's (from <see cref="FixedFitsFrom"/> on),
    /// the last suggestion's model is extended by the observations since; a fresh suggester (after a restart) factorises
    /// the checkpoint's observations and borders the rest one at a time, which gives the very same factor.
    /// </summary>
    private GaussianProcess Model(double[][] x, double[] y, GpHyperparameters hyperparameters, OutputCache cache)
    {
        var n = x.Length;
        if (n < FixedFitsFrom) return GaussianProcess.Create(x, y, _inputs.Categorical, hyperparameters);
        var start = cache.ObservedModel is { } kept && ReferenceEquals(kept.Hyperparameters, hyperparameters) && kept.Count <= n &&
            Enumerable.Range(0, kept.Count).All(i => kept.Points[i].AsSpan().SequenceEqual(x[i]))
            ? kept
            : GaussianProcess.Create(x[..CheckpointCount(n)], y[..CheckpointCount(n)], _inputs.Categorical, hyperparameters);
        cache.ObservedModel = start.Extend(x[start.Count..], y);
        return cache.ObservedModel;
    }

    private GpHyperparameters CheckpointFit(double[][] x, double[] losses, int count, OutputCache cache)
    {
        // A checkpoint fitted under another lengthscale limit (before the study's first early stop) is not this fit: a
        // resumed study, which has no checkpoint in memory, would fit it afresh under the current limit.
        if (cache.Checkpoint is { } kept && kept.MaxLengthscale == _maxLengthscale && kept.Losses.Length == count &&
            Enumerable.Range(0, count).All(i => kept.Losses[i] == losses[i] && kept.X[i].AsSpan().SequenceEqual(x[i])))
            return kept.Fit;
        var fit = FullFit(x[..count], GaussianProcess.Standardise(losses[..count]));
        cache.Checkpoint = (x[..count], losses[..count], fit, _maxLengthscale);
        return fit;
    }

    /// <summary>
    /// A fit from every start: the prior's mode and draws from the prior, seeded by the number of observations. From
    /// <see cref="AdditiveFrom"/> parameters on, the additive kernel is fitted too, and the kernel whose fit explains the
    /// data better (the higher marginal likelihood; both have the same number of hyperparameters) is the model's.
    /// </summary>
    private GpHyperparameters FullFit(double[][] x, double[] y)
    {
        var random = new Random(Seeds.ForTrial(_seed ^ FitSalt, x.Length));
        var data = TrainingData.Subset(x, y, _inputs.Categorical, random);
        var product = GaussianProcess.Fit(data, null, random, _settings.Restarts, _priors, MaxNoiseVariance, maxLengthscale: _maxLengthscale);
        if (_space.Dimensions < AdditiveFrom) return product;
        var additive = GaussianProcess.Fit(data, null, random, _settings.Restarts, AdditivePriors, MaxNoiseVariance, additive: true, maxLengthscale: _maxLengthscale);
        return GaussianProcess.LogMarginalLikelihood(data, additive) > GaussianProcess.LogMarginalLikelihood(data, product) ? additive : product;
    }

    /// <summary>
    /// From this many parameters on, the additive kernel competes with the product kernel at every full fit. With many
    /// parameters and a budget of a few hundred trials, a product kernel sees every point far from every other and
    /// learns little between them (in 20-D at 100 trials it did no better than random search on Levy, Ackley and
    /// Rosenbrock); when the objective is mostly a sum of one-parameter effects, the additive kernel learns each effect
    /// from all the points. Below 10 parameters the product kernel learns enough alone, and the public rows stay as they were.
    /// </summary>
    private const int AdditiveFrom = 10;

    /// <summary>
    /// The additive kernel's lengthscale prior, log ℓ ~ N(log 0.2, 1): each term is a function of one parameter over the
    /// unit interval, which a median lengthscale of 0.2 lets bend a few times (two wells of Styblinski-Tang, a learning
    /// rate's optimum inside its range). Hvarfner's prior at d = 1, a median of 4.1, reads such terms as near-linear;
    /// from it the fits stopped in optima that ignored most terms. Chosen on Styblinski-Tang in 20-D, 100 trials, 5 seeds,
    /// median regret: 489 with a median of 4.1, 368 with 0.5, 325 with 0.3, 294 with 0.2 and sd √3, 255 with 0.14 and
    /// sd √3, 244 with 0.2 and sd 1; then checked on rows it was not chosen on (Hartmann6 in 20 and 40, Styblinski-Tang
    /// in 40, and Levy, Ackley and Rosenbrock in 20, added after).
    /// </summary>
    private static readonly GpPriors AdditivePriors = GpPriors.ForDimensions(1) with { LengthscaleMean = Math.Log(0.2), LengthscaleSd = 1 };

    /// <summary>Draws of the baseline for <see cref="LogNoisyExpectedImprovement"/>; BoTorch's qLogNEI takes 128 by default,
    /// and with the candidate's value analytic given each draw fewer do.</summary>
    private const int IncumbentSamples = 64;

    /// <summary>How many of the evaluated points, those with the lowest posterior means, may be the incumbent.</summary>
    private const int BaselineSize = 16;

    /// <summary>The points of the model with the lowest posterior means: those that may be the best evaluated point.</summary>
    private static double[][] Baseline(GaussianProcess model)
    {
        var means = model.Means(model.Points);
        return Enumerable.Range(0, model.Count).OrderBy(i => means[i]).Take(BaselineSize).Select(i => model.Points[i]).ToArray();
    }

    private const int IncumbentSalt = 0x1BADB002;

    /// <summary>
    /// Whether the fit reads the data as noisy: a noise variance above a thousandth of the signal's (a noise standard
    /// deviation above about 3% of the signal's). Below that the observations are as good as exact, the lowest is the
    /// incumbent, and LogEI refines a converging search to the last digits, which the noisy variant's draws would blur.
    /// </summary>
    private static bool NoiseInferred(GpHyperparameters fit) => fit.LogNoiseVariance - fit.LogSignalVariance > Math.Log(1e-3);

    /// <summary>
    /// The search's model keeps its noise variance below a quarter of the standardised outputs': a study is run because
    /// its metric has a signal, and a fit that reads nearly all of it as noise (long lengthscales, noise near 1) leaves a
    /// flat model that searches at random. With Hartmann6 under noise of sd 0.2, 4 of 10 seeds fell into that and ended
    /// with regret 1.8 to 3.3; with the bound, 0.62 at worst in the upper quartile. <see cref="Recommendation"/> keeps
    /// the whole range: it judges results already in, where one wild draw should be read as noise.
    /// </summary>
    private const double MaxNoiseVariance = 0.25;

    /// <summary>Salts the fit's random streams apart from the suggestion's, which are seeded by trial number.</summary>
    private const int FitSalt = 0x2545F491;

    /// <summary>Raw candidates: scrambled Sobol points over the whole box, and Gaussian steps around the best observations,
    /// the lowest in <paramref name="ranking"/>.</summary>
    private List<double[]> Candidates(double[][] x, double[] ranking, int trialNumber, Random random)
    {
        var count = _settings.CandidatesAt(x.Length);
        var candidates = new List<double[]>(count + 100);
        if (_space.Dimensions <= SobolSequence.MaxDimensions)
        {
            var sobol = new SobolSequence(_space.Dimensions, Seeds.ForTrial(_seed ^ 0x5F3759DF, trialNumber));
            for (var i = 0; i < count; i++) candidates.Add(_inputs.ToFeatures(sobol.Point(i)));
        }
        else
        {
            for (var i = 0; i < count; i++) candidates.Add(_inputs.ToFeatures(UniformPoint.Draw(random, _space.Dimensions)));
        }
        foreach (var incumbent in Enumerable.Range(0, x.Length).OrderBy(i => ranking[i]).Take(5))
            for (var k = 0; k < 20; k++)
            {
                var point = (double[])x[incumbent].Clone();
                var scale = k < 10 ? 0.01 : 0.1;
                for (var j = 0; j < point.Length; j++)
                {
                    if (_inputs.Categorical[j])
                    {
                        if (random.NextDouble() < 0.2) point[j] = random.Next(_inputs.Categories[j]);
                    }
                    else point[j] = Math.Clamp(point[j] + scale * GpPriors.Gaussian(random), 0, 1);
                }
                candidates.Add(point);
            }
        if (_space.Dimensions >= SubsetPerturbationsFrom) AddSubsetPerturbations(candidates, x[Array.IndexOf(ranking, ranking.Min())], random);
        return candidates;
    }

    /// <summary>From this many parameters on, candidates also move a few coordinates of the best point at a time.</summary>
    private const int SubsetPerturbationsFrom = 10;

    /// <summary>
    /// Candidates that change about five coordinates of the best point, each by a step of 0.05 or 0.2: in many
    /// dimensions, points that move every coordinate at once land far from anything observed, where the model knows
    /// least and the acquisition rests on variance alone (in the last trials of a 20-parameter study, 7 to 12
    /// coordinates sat at a bound). TuRBO (Eriksson et al., NeurIPS 2019) and BoTorch's sample_around_best perturb a
    /// subset of the coordinates for the same reason.
    /// </summary>
    private void AddSubsetPerturbations(List<double[]> candidates, double[] best, Random random)
    {
        var probability = 5.0 / _space.Dimensions;
        for (var k = 0; k < 200; k++)
        {
            var point = (double[])best.Clone();
            var scale = k % 2 == 0 ? 0.05 : 0.2;
            var moved = random.Next(point.Length); // at least one
            for (var j = 0; j < point.Length; j++)
            {
                if (j != moved && random.NextDouble() >= probability) continue;
                if (_inputs.Categorical[j]) point[j] = random.Next(_inputs.Categories[j]);
                else point[j] = Math.Clamp(point[j] + scale * GpPriors.Gaussian(random), 0, 1);
            }
            candidates.Add(point);
        }
    }

    private static string Key(double[] features) => string.Join(",", features.Select(f => Math.Round(f, 9)));
}
