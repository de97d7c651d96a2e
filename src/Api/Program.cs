using Tuning.Api.Cli;

const string usage = """
    tuner: hyperparameter tuning with Orleans grains, pipelines and a step cache.

    Usage: tuner <verb> [arguments]   (tuner <verb> --help for more)

      run STUDY.yaml [--out DIR] [--data DIR]   run a study here, embedded store, no servers
    """;

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    return args[0] switch
    {
        "run" => await RunCommand.RunAsync(Arguments.Parse(args[1..], "--out", "--data")),
        _ => throw new UsageException($"unknown verb '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"tuner: {e.Message}");
    Console.Error.WriteLine(usage);
    return 2;
}
