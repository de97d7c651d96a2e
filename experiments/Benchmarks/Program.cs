using System.Globalization;
using Tuning.Benchmarks;

const string usage = """
    Usage: dotnet run -c Release --project experiments/Benchmarks -- <benchmark> [options]

      regret [--seeds N] [--functions a,b] [--algorithms a,b] [--suite default|small] [--budget N]
                                       simple regret on Branin, Hartmann6, Rosenbrock4 (DESIGN.md's suite) and
                                       mixed4 (a double, an int, a categorical and a log-scale double); --suite small:
                                       Branin 15 trials, Hartmann6 20 and 30, Hartmann6 among 9 parameters 20;
                                       --budget N runs every row with N trials
      tpe-parity [--seeds N] [--functions a,b] [--python PATH] [--settings k=v,k=v] [--optuna-json FILE]
                                       our tpe beside Optuna's TPESampler (experiments/optuna-parity, Debian's
                                       python3-optuna) on the same functions, budgets and seeds (default 20);
                                       --optuna-json reuses the script's saved output instead of running it
      latency                          JSON: median milliseconds of one suggestion given N observations
      throughput [TRIALS] [PARALLEL] [--end-to-end] [--no-cache]
                                       trivial trials on the embedded store (default 2000, 8): trials per second;
                                       --end-to-end times `tuner run` itself, start-up included; each trial's step
                                       misses the cache and stores an entry, or with --no-cache is not cached
      service [TRIALS]                 tuner serve: a study of TRIALS trials over HTTP (default 10000), then the
                                       milliseconds of each request that opens its dashboard page
    """;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
string[] List(string name) => Option(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
string[] positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
int Arg(int index, int fallback) => positional.Length > index ? int.Parse(positional[index], CultureInfo.InvariantCulture) : fallback;

return args.FirstOrDefault() switch
{
    "regret" => Regret.Run(int.Parse(Option("--seeds") ?? "10", CultureInfo.InvariantCulture), List("--functions"), List("--algorithms"),
        Option("--suite") ?? "default", Option("--budget") is { } budget ? int.Parse(budget, CultureInfo.InvariantCulture) : null),
    "tpe-parity" => TpeParity.Run(int.Parse(Option("--seeds") ?? "20", CultureInfo.InvariantCulture), List("--functions"), Option("--python"),
        List("--settings").Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""), Option("--optuna-json")),
    "latency" => Latency.Run(),
    "throughput" => await Throughput.RunAsync(Arg(1, 2000), Arg(2, 8), args.Contains("--end-to-end"), !args.Contains("--no-cache")),
    "service" => await Service.RunAsync(Arg(1, 10000)),
    _ => Usage(),
};

int Usage()
{
    Console.Error.WriteLine(usage);
    return 2;
}
