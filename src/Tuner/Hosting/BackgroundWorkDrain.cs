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

    private async Task DrainAsync(CancellationToken cancellation)
    {
        var left = await background.DrainAsync(cancellation);
        if (left.Count > 0) logger.LogWarning("the silo stopped with background work still running: {Work}", string.Join(", ", left));
    }
}
