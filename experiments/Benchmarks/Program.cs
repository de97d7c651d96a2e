using System.Globalization;
using Tuning.Benchmarks;

const string usage = """
    Usage: dotnet run -c Release --project experiments/Benchmarks -- <benchmark> [options]

      regret [--seeds S] [--quick] [--functions a,b] [--algorithms a,b] [--suite S,S|all] [--budget N]
                                       simple regret (of the recommended trial) on the held-out seeds 100-109 (--quick:
                                       100-104; --seeds 0-9 or 3,5,7: the seeds constants are chosen on), median and
                                       quartiles; suites: default (Branin, Hartmann6, Rosenbrock4 at DESIGN.md's budgets,
                                       and mixed4: a double, an int, a categorical, a log-scale double), small (Branin
                                       15 trials, Hartmann6 20 and 30, Hartmann6 among 9 parameters 20), bound
                                       (nearbound3 and Hartmann3: optima a tenth inside a bound), separable
                                       (Styblinski-Tang 4-D, 16 local minima), noisy (Hartmann6 with noise sd 0.05 and
                                       0.2), parallel (Branin, Hartmann6, Rosenbrock4, Levy4, Ackley5 with 1, 4, 8
                                       trials at once), high
                                       (Hartmann6 among 20 and 40 parameters, Styblinski-Tang 20 and 40, Levy, Ackley
                                       and Rosenbrock 20; 100 trials), sklearn (SGDClassifier and
                                       PCA+SVC on digits, 9 hyperparameters, 20 trials, the error of a 3-fold
                                       cross-validation; Debian's python3-sklearn);
                                       all: every suite; --budget N runs every row with N trials
      tpe-parity [--seeds S] [--functions a,b] [--python PATH] [--settings k=v,k=v] [--optuna-json FILE]
                                       our tpe beside Optuna's TPESampler (experiments/optuna-parity, Debian's
                                       python3-optuna) on the same functions, budgets and seeds (default 100-109);
                                       --optuna-json reuses the script's saved output instead of running it
      tpe-densities [--functions a,b] [--seed N] [--python PATH]
                                       our tpe's log l(x) - log g(x) beside Optuna 3.1's on the same observations (the
                                       first 20, 50, 99 trials of our tpe's run with seed N, default 100) at the same
                                       points, per parameter (experiments/optuna-parity/optuna_tpe_densities.py)
      multi-objective [--seeds N] [--first-seed S] [--functions a,b] [--algorithms a,b] [--python PATH] [--optuna-json FILE] [--latency]
                                       hypervolume at the budget, median over seeds 100-109 (N seeds from S, default
                                       100; tune on --first-seed 0): ZDT1 6-D 80 trials, DTLZ2 3 objectives 6-D 80,
                                       BraninCurrin 40, C2-DTLZ2 6-D 80 (constrained), and the untuned ZDT2, ZDT3
                                       6-D 80 and DTLZ7 3 objectives 6-D 80; our random, tpe, bayesian, nsga2 beside Optuna 3.1's NSGA-II and
                                       MOTPE (experiments/optuna-parity/optuna_multi.py), scored by the same code;
                                       --latency: bayesian's milliseconds per suggestion, 2 and 3 objectives, at 100
                                       and 300 observations
      latency                          JSON: median milliseconds of one suggestion given N observations
      throughput [TRIALS] [PARALLEL] [--end-to-end] [--no-cache] [--optuna] [--floor]
                                       trivial trials on the embedded store (default 2000, 8): trials per second;
                                       --end-to-end times `tuner run` itself, start-up included; each trial's step
                                       misses the cache and stores an entry, or with --no-cache is not cached;
                                       --optuna then runs the same trials under Optuna 3.1 (JournalStorage, as
                                       many threads as PARALLEL), timed from its start to its exit; --floor then
                                       starts the same processes as the tuner starts steps, with nothing else (no
                                       study, store or cache)
      ask-tell [ROUNDS] [THREADS] [--algorithm A] [--python PATH]
                                       tuner serve with an external study: ask+tell round trips per second from
                                       THREADS threads over HTTP (default 2000, 8) and each ask's p50/p99 (per hundred
                                       observations too); with random search, Optuna 3.1's ask/tell on JournalStorage
                                       from as many threads beside it (experiments/optuna-parity/optuna_asktell.py)
      lcbench [--tasks T,T] [--algorithms a,b] [--rules r,r] [--rule-settings 'RULE={...}'] [--seeds S,S]
              [--budget EPOCHS] [--workers N] [--optuna] [--optuna-json FILE] [--out FILE] [--lcbench DIR] [--check]
                                       multi-fidelity search on LCBench's learning curves (issue 23): studies through the
                                       grains, each trial reporting val_accuracy per epoch, N workers in simulated time,
                                       until EPOCHS epochs are trained (default 1040, 4 workers, seeds 100-102, the five
                                       tuning tasks, random/tpe/bayesian x none and every early-stopping rule); per task
                                       the distance of the best 52-epoch accuracy to the best known, epochs, wall time;
                                       --optuna runs lcbench_optuna.py beside it (Optuna 3.1 samplers x pruners);
                                       --lcbench: the surrogate's folder (default ../shared/benchmarks/lcbench above the
                                       repository); --rule-settings (repeatable) tries a rule with other settings than
                                       asha's rungs at 1, 3, 9, 27 and hyperband's brackets from 1 to 52 epochs;
                                       --check compares our curves with lcbench.py's
      lcbench-best-known [--tasks T,T] [--samples N] [--out FILE] [--lcbench DIR]
                                       the long search on the surrogate that finds each task's best known accuracy
                                       (default every task, 500000 random configurations, then local refinement)
      service [TRIALS]                 tuner serve: a study of TRIALS trials asked and told over HTTP (default 10000),
                                       then p50/p99 of each request its dashboard page makes, the page's load in
                                       Debian's Chromium and the server's CPU while one page follows the study
    """;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
string[] List(string name) => Option(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
string[] positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
int Arg(int index, int fallback) => positional.Length > index ? int.Parse(positional[index], CultureInfo.InvariantCulture) : fallback;

return args.FirstOrDefault() switch
{
    "regret" => Regret.Run(Regret.ParseSeeds(Option("--seeds"), args.Contains("--quick") ? Regret.HeldOutSeeds[..5] : Regret.HeldOutSeeds),
        List("--functions"), List("--algorithms"),
        Option("--suite") == "all" ? TestFunction.SuiteNames : List("--suite") is { Length: > 0 } suites ? suites : ["default"],
        Option("--budget") is { } budget ? int.Parse(budget, CultureInfo.InvariantCulture) : null),
    "tpe-parity" => TpeParity.Run(Regret.ParseSeeds(Option("--seeds"), Regret.HeldOutSeeds), List("--functions"), Option("--python"),
        List("--settings").Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""), Option("--optuna-json")),
    "tpe-densities" => TpeDensities.Run(List("--functions"), Option("--python"), int.Parse(Option("--seed") ?? "100", CultureInfo.InvariantCulture)),
    "multi-objective" when args.Contains("--latency") => MultiObjectiveBenchmark.Latency(),
    "multi-objective" => MultiObjectiveBenchmark.Run(int.Parse(Option("--seeds") ?? "10", CultureInfo.InvariantCulture),
        int.Parse(Option("--first-seed") ?? $"{MultiObjectiveBenchmark.FirstSeed}", CultureInfo.InvariantCulture), List("--functions"),
        List("--algorithms"), Option("--python"), Option("--optuna-json")),
    "latency" => Latency.Run(),
    "throughput" => await Throughput.RunAsync(Arg(1, 2000), Arg(2, 8), args.Contains("--end-to-end"), !args.Contains("--no-cache"), args.Contains("--optuna"),
        args.Contains("--floor")),
    "lcbench" when args.Contains("--check") => LcBench.Check(Option("--lcbench")),
    "lcbench" => await LcBench.RunAsync(new LcBench.Options(
        List("--tasks") is { Length: > 0 } tasks ? tasks : LcBench.TuningTasks,
        List("--algorithms") is { Length: > 0 } algorithms ? algorithms : LcBench.Algorithms,
        List("--rules") is { Length: > 0 } rules ? rules : LcBench.Rules,
        args.Zip(args.Skip(1)).Where(p => p.First == "--rule-settings").Select(p => p.Second.Split('=', 2)).ToDictionary(p => p[0], p => p[1]),
        List("--seeds") is { Length: > 0 } seeds ? seeds.Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [100, 101, 102],
        int.Parse(Option("--budget") ?? $"{LcBench.DefaultBudget}", CultureInfo.InvariantCulture),
        int.Parse(Option("--workers") ?? $"{LcBench.DefaultWorkers}", CultureInfo.InvariantCulture),
        Option("--lcbench"), args.Contains("--optuna"), Option("--optuna-json"), Option("--out"))),
    "lcbench-best-known" => LcBenchBestKnown.Compute(Option("--lcbench"), List("--tasks"),
        int.Parse(Option("--samples") ?? "500000", CultureInfo.InvariantCulture), 1, Option("--out") ?? LcBenchBestKnown.RelativePath),
    "service" => await Service.RunAsync(Arg(1, 10000)),
    "ask-tell" => await AskTell.RunAsync(Arg(1, 2000), Arg(2, 8), Option("--algorithm") ?? "random", Option("--python")),
    _ => Usage(),
};

int Usage()
{
    Console.Error.WriteLine(usage);
    return 2;
}
