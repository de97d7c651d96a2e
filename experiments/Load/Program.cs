using Tuning.Load;

var (options, error) = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(error == "" ? Options.Usage : $"load: {error}\n\n{Options.Usage}");
    return error == "" ? 0 : 2;
}
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C ends the load and still stops the tuners and Redis this program started.
    e.Cancel = true;
    interrupt.Cancel();
};
return await LoadRun.RunAsync(options, interrupt.Token);
