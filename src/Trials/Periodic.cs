namespace Tuning.Trials;

/// <summary>
/// Work done every period beside a trial (its disk-quota check, a cache turn's renewal, its progress reports) until
/// stopped. Stopping disposes the timer, which ends the wait with false, where cancelling the wait would throw an
/// OperationCanceledException: each trial starts and stops such loops, and at a few hundred trials a second those
/// exceptions, their stack traces included, took about a twentieth of the tuner's CPU.
/// </summary>
public sealed class Periodic
{
    private readonly PeriodicTimer _timer;
    private readonly Task _loop;

    /// <param name="tick">The work of one period; false ends the loop.</param>
    public Periodic(TimeSpan every, Func<Task<bool>> tick)
    {
        _timer = new PeriodicTimer(every);
        _loop = RunAsync(tick);
    }

    /// <summary>Stops the loop and waits for a tick in progress to end.</summary>
    public async Task StopAsync()
    {
        _timer.Dispose();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync(Func<Task<bool>> tick)
    {
        while (await _timer.WaitForNextTickAsync().ConfigureAwait(false))
            if (!await tick().ConfigureAwait(false)) return;
    }
}
