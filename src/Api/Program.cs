using System.CommandLine;
using Tuning.Api.Cli;

var root = new RootCommand("tuner: hyperparameter tuning. Run a study here (run), serve studies over HTTP with a dashboard (serve), or talk to a server (submit, list, status, trials, stop, delete, plot); manage the step cache (cache)");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(NotebookCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
foreach (var verb in ClientCommands.Create()) root.Subcommands.Add(verb);
root.Subcommands.Add(KeyCommand.Create());
root.Subcommands.Add(CacheCommand.Create());

var parse = root.Parse(args);
if (args.Length == 0)
{
    await root.Parse(["--help"]).InvokeAsync();
    return 2;
}
// A command line that does not fit is exit code 2, with what is wrong and where to read more.
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"tuner: {error.Message}");
    Console.Error.WriteLine("Run `tuner --help`, or `tuner VERB --help`, for usage.");
    return 2;
}
return await parse.InvokeAsync();
