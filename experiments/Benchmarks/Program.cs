using System.Globalization;
using Tuning.Benchmarks;

const string usage = """
    Usage: dotnet run -c Release --project experiments/Benchmarks -- <benchmark> [options]

      throughput [TRIALS] [PARALLEL]   trivial trials on the embedded store (default 2000, 8): trials per second
    """;

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

return args.FirstOrDefault() switch
{
    "throughput" => await Throughput.RunAsync(Arg(1, 2000), Arg(2, 8)),
    _ => Usage(),
};

int Usage()
{
    Console.Error.WriteLine(usage);
    return 2;
}
