using Microsoft.Extensions.Hosting;
using Tuning.Trials;
using Orleans.Concurrency;
using Tuning.Trials.Caching;

namespace Tuning.Tuner.Grains;

/// <summary>
/// One cache key, across the whole cluster: who computes it now. Keyed by the cache key. A step that misses the cache
/// asks for the turn; the first gets it, the rest wait for that run and then take its entry, or its failure.
/// </summary>
public interface IStepCacheGrain : IGrainWithStringKey
{
    /// <summary>The turn, or how the run in progress ended; <see cref="TurnOutcome.StillRunning"/> after a bounded wait (ask again).</summary>
    Task<TurnAnswer> Enter();

    Task Renew(Guid turn);

    Task Exit(Guid turn, string? error, bool abandoned);
}

/// <summary>
/// The turns of one cache key, in memory: after a restart nobody computes anything, so there is nothing to keep;
/// the entries themselves are on disk. Reentrant, so waiting callers do not hold up the owner's renewals and exit;
/// each method changes the state without awaiting in between.
/// </summary>
[Reentrant]
public sealed class StepCacheGrain : Grain, IStepCacheGrain
{
    /// <summary>The longest one call waits, well within Orleans' response timeout.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(10);

    private readonly StepRunTurns _turns = new();

    public async Task<TurnAnswer> Enter()
    {
        if (_turns.Enter(DateTime.UtcNow, out var ended) is { } mine) return mine;
        try
        {
            return await ended.WaitAsync(LongestWait);
        }
        catch (TimeoutException)
        {
            return new TurnAnswer(TurnOutcome.StillRunning, Guid.Empty, null);
        }
    }

    public Task Renew(Guid turn)
    {
        _turns.Renew(turn, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task Exit(Guid turn, string? error, bool abandoned)
    {
        _turns.Exit(turn, error, abandoned);
        if (_turns.Idle) DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>The pipeline's gate, through the key's grain: one run per key in the whole cluster.</summary>
/// <remarks>
/// In a cluster a key's grain may be on a silo that dies: a call that the runtime could not deliver or answer (the
/// silo unreachable, declared dead) is made again, backing off, until the grain is back on another silo. Its turns
/// are forgotten with it, which is right: their owners on the lost silo are gone too.
/// </remarks>
/// <param name="lifetime">A silo that is stopping tries nothing again: its grains are going, and so are the turns' owners.</param>
public sealed class GrainStepRunGate(IGrainFactory grains, IHostApplicationLifetime lifetime) : IStepRunGate
{
    /// <summary>How long calls are tried again while a lost silo is being declared dead.</summary>
    private static readonly TimeSpan LostSiloWait = TimeSpan.FromSeconds(60);

    public Task<TurnAnswer> EnterAsync(string key, CancellationToken cancellation) => Retried(async () =>
    {
        var grain = grains.GetGrain<IStepCacheGrain>(key);
        var asked = grain.Enter();
        try
        {
            return await asked.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A turn granted as this trial was stopped is given back, so those waiting need not wait out its lease.
            _ = asked.ContinueWith(t => t.Result.Outcome == TurnOutcome.YourTurn ? grain.Exit(t.Result.Turn, null, abandoned: true) : Task.CompletedTask,
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }, cancellation);

    public Task RenewAsync(string key, Guid turn) => Retried(async () =>
    {
        await grains.GetGrain<IStepCacheGrain>(key).Renew(turn).ConfigureAwait(false);
        return true;
    }, CancellationToken.None);

    /// <remarks>
    /// A silo that is stopping gives no turn back: its steps were ended by the stop, the grain cannot be reached any
    /// more (Orleans would log each try as an error on the user's terminal), and the turn's lease runs out by itself.
    /// </remarks>
    public Task ExitAsync(string key, Guid turn, string? error, bool abandoned) => lifetime.ApplicationStopping.IsCancellationRequested
        ? Task.CompletedTask
        : Retried(async () =>
        {
            await grains.GetGrain<IStepCacheGrain>(key).Exit(turn, error, abandoned).ConfigureAwait(false);
            return true;
        }, CancellationToken.None);

    /// <summary>When a call stops being tried again, in its context.</summary>
    private static readonly Polly.ResiliencePropertyKey<DateTime> GiveUpAt = new("tuning.give-up-at");

    private readonly Polly.ResiliencePipeline _untilDeclaredDead = Retrying.Backoff(
        (e, call) => e is OrleansException && DateTime.UtcNow < call.Properties.GetValue(GiveUpAt, DateTime.MinValue) && !lifetime.ApplicationStopping.IsCancellationRequested,
        TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(4));

    private Task<T> Retried<T>(Func<Task<T>> call, CancellationToken cancellation) =>
        _untilDeclaredDead.ExecuteAsync(call, GiveUpAt, DateTime.UtcNow + LostSiloWait, cancellation);
}
