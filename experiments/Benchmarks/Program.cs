using System.Globalization;
using Tuning.Benchmarks;

const string usage = """
    Usage: dotnet run -c Release --project experiments/Benchmarks -- <benchmark> [options]

      regret [--seeds N] [--quick] [--functions a,b] [--algorithms a,b] [--suite S,S|all] [--budget N]
                                       simple regret (of the recommended trial) over 10 seeds (--quick: 5), median and
                                       quartiles; suites: default (Branin, Hartmann6, Rosenbrock4 at DESIGN.md's budgets,
                                       and mixed4: a double, an int, a categorical, a log-scale double), small (Branin
                                       15 trials, Hartmann6 20 and 30, Hartmann6 among 9 parameters 20), bound
                                       (nearbound3: the optimum a tenth inside a bound), noisy (Hartmann6 with noise sd
                                       0.05 and 0.2), parallel (Branin, Hartmann6 with 1, 4, 8 trials at once), high
                                       (Hartmann6 among 20 and 40 parameters, Styblinski-Tang 20 and 40, Levy, Ackley
                                       and Rosenbrock 20; 100 trials);
                                       all: every suite; --budget N runs every row with N trials
      tpe-parity [--seeds N] [--functions a,b] [--python PATH] [--settings k=v,k=v] [--optuna-json FILE]
                                       our tpe beside Optuna's TPESampler (experiments/optuna-parity, Debian's
                                       python3-optuna) on the same functions, budgets and seeds (default 20);
                                       --optuna-json reuses the script's saved output instead of running it
      latency                          JSON: median milliseconds of one suggestion given N observations
      throughput [TRIALS] [PARALLEL] [--end-to-end] [--no-cache] [--optuna]
                                       trivial trials on the embedded store (default 2000, 8): trials per second;
                                       --end-to-end times `tuner run` itself, start-up included; each trial's step
                                       misses the cache and stores an entry, or with --no-cache is not cached;
                                       --optuna then runs the same trials under Optuna 3.1 (JournalStorage, as
                                       many threads as PARALLEL), timed from its start to its exit
      ask-tell [ROUNDS] [THREADS] [--algorithm A] [--python PATH]
                                       tuner serve with an external study: ask+tell round trips per second from
                                       THREADS threads over HTTP (default 2000, 8) and each ask's p50/p99 (per hundred
                                       observations too); with random search, Optuna 3.1's ask/tell on JournalStorage
                                       from as many threads beside it (experiments/optuna-parity/optuna_asktell.py)
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
    "regret" => Regret.Run(int.Parse(Option("--seeds") ?? (args.Contains("--quick") ? "5" : "10"), CultureInfo.InvariantCulture),
        List("--functions"), List("--algorithms"),
        Option("--suite") == "all" ? TestFunction.SuiteNames : List("--suite") is { Length: > 0 } suites ? suites : ["default"],
        Option("--budget") is { } budget ? int.Parse(budget, CultureInfo.InvariantCulture) : null),
    "tpe-parity" => TpeParity.Run(int.Parse(Option("--seeds") ?? "20", CultureInfo.InvariantCulture), List("--functions"), Option("--python"),
        List("--settings").Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""), Option("--optuna-json")),
    "latency" => Latency.Run(),
    "throughput" => await Throughput.RunAsync(Arg(1, 2000), Arg(2, 8), args.Contains("--end-to-end"), !args.Contains("--no-cache"), args.Contains("--optuna")),
    "service" => await Service.RunAsync(Arg(1, 10000)),
    "ask-tell" => await AskTell.RunAsync(Arg(1, 2000), Arg(2, 8), Option("--algorithm") ?? "random", Option("--python")),
    _ => Usage(),
};

int Usage()
{
    Console.Error.WriteLine(usage);
    return 2;
}
