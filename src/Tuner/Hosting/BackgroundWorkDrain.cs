using Microsoft.Extensions.Logging;
using Tuning.Trials;

namespace Tuning.Tuner.Hosting;

/// <summary>
/// At silo stop, once <see cref="LeftoverSweep"/> has ended the steps' processes, waits for the background work still
/// in flight (trial runs storing nothing as the silo stops, a Job's delete) for as long as the stop allows, and names
/// what did not end: nothing the silo started is left running unseen behind its shutdown.
/// </summary>
public sealed class BackgroundWorkDrain(BackgroundWork background, ILogger<BackgroundWorkDrain> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        // Stages stop in reverse: one below the sweep's stops after it.
        lifecycle.Subscribe(nameof(BackgroundWorkDrain), ServiceLifecycleStage.ApplicationServices - 1, _ => Task.CompletedTask, DrainAsync);

    /// <summary>
    /// The longest a stop waits: a trial run ends within the steps' TERM-to-KILL grace of the sweep, and a command-line
    /// run must exit soon after Ctrl-C or SIGTERM.
    /// </summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);

    private async Task DrainAsync(CancellationToken cancellation)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        patience.CancelAfter(LongestWait);
        var left = await background.DrainAsync(patience.Token);
        if (left.Count > 0) logger.LogWarning("the silo stopped with background work still running: {Work}", string.Join(", ", left));
    }
}
