namespace Tuning.Trials.Caching;

/// <summary>What a step that needs a missing cache entry is told when it asks to compute it.</summary>
public enum TurnOutcome
{
    /// <summary>Nobody computes the key now: the caller does, under <see cref="TurnAnswer.Turn"/>.</summary>
    YourTurn,

    /// <summary>Another run of the key ended with an entry: look it up.</summary>
    OtherSucceeded,

    /// <summary>Another run of the key failed: the caller fails with its error rather than repeat it.</summary>
    OtherFailed,

    /// <summary>Another run was given up (its trial was stopped, or its owner went silent): ask again.</summary>
    OtherAbandoned,

    /// <summary>Another run is still going after the longest a single ask waits: ask again.</summary>
    StillRunning,
}

public readonly record struct TurnAnswer(TurnOutcome Outcome, Guid Turn, string? Error);

/// <summary>
/// Makes each missing cache key computed by one run at a time: the first step to ask gets the turn, the others wait
/// for its end and then take its entry, or its failure. In a cluster's silos, one grain per key does this across the
/// cluster; the embedded silo, a cluster of one, does it in its process.
/// </summary>
public interface IStepRunGate
{
    /// <summary>Asks for the turn to compute <paramref name="key"/>, waiting a while for another run of it to end.</summary>
    Task<TurnAnswer> EnterAsync(string key, CancellationToken cancellation);

    /// <summary>Says the turn's owner is still at work, so the turn is not taken from it as silent.</summary>
    Task RenewAsync(string key, Guid turn);

    /// <summary>Ends a turn: with an entry (error null), failed (its error), or given up (<paramref name="abandoned"/>).</summary>
    Task ExitAsync(string key, Guid turn, string? error, bool abandoned);
}

/// <summary>
/// The turns of one cache key: who computes it now and until when, and how waiters hear of its end. Pure state,
/// its methods never block; callers serialise them (a lock, or a grain's turn).
/// </summary>
public sealed class StepRunTurns
{
    /// <summary>How long a turn is kept without a renewal: its owner renews far more often while it runs.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private Guid _owner;
    private DateTime _expires;
    private TaskCompletionSource<TurnAnswer>? _ended;

    /// <summary>The turn, where it is free or its owner went silent; otherwise the task that completes when the current run ends.</summary>
    public TurnAnswer? Enter(DateTime now, out Task<TurnAnswer> ended)
    {
        if (_ended is not null && _expires > now)
        {
            ended = _ended.Task;
            return null;
        }
        // A silent owner (its machine died) loses the turn; those waiting on it ask again.
        _ended?.TrySetResult(new TurnAnswer(TurnOutcome.OtherAbandoned, _owner, null));
        _owner = Guid.NewGuid();
        _expires = now + Lease;
        _ended = new TaskCompletionSource<TurnAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        ended = Task.FromResult(new TurnAnswer(TurnOutcome.YourTurn, _owner, null));
        return new TurnAnswer(TurnOutcome.YourTurn, _owner, null);
    }

    public void Renew(Guid turn, DateTime now)
    {
        if (_ended is not null && turn == _owner) _expires = now + Lease;
    }

    public void Exit(Guid turn, string? error, bool abandoned)
    {
        if (_ended is null || turn != _owner) return;
        var outcome = abandoned ? TurnOutcome.OtherAbandoned : error is null ? TurnOutcome.OtherSucceeded : TurnOutcome.OtherFailed;
        var ended = _ended;
        _ended = null;
        ended.TrySetResult(new TurnAnswer(outcome, turn, error));
    }

    /// <summary>Whether nobody holds or waits for a turn: the state can be forgotten.</summary>
    public bool Idle => _ended is null;
}

/// <summary>The gate within one process: what a pipeline uses outside a silo, the embedded silo, and tests.</summary>
/// <param name="stopping">
/// Cancelled when the process that runs the steps begins to stop: from then on no turn is given, so no step starts after
/// the stop has ended the running ones (a waiter woken by a run given up at the stop asks again and is refused).
/// </param>
public sealed class LocalStepRunGate(CancellationToken stopping = default) : IStepRunGate
{
    private readonly Dictionary<string, StepRunTurns> _keys = new(StringComparer.Ordinal);

    public async Task<TurnAnswer> EnterAsync(string key, CancellationToken cancellation)
    {
        Task<TurnAnswer> ended;
        // A caller stopped before it asked gets no turn, as a call to the grain is not made once its token is cancelled.
        cancellation.ThrowIfCancellationRequested();
        stopping.ThrowIfCancellationRequested();
        lock (_keys)
        {
            if (!_keys.TryGetValue(key, out var turns)) _keys[key] = turns = new StepRunTurns();
            if (turns.Enter(DateTime.UtcNow, out ended) is { } mine) return mine;
        }
        return await ended.WaitAsync(cancellation).ConfigureAwait(false);
    }

    public Task RenewAsync(string key, Guid turn)
    {
        lock (_keys)
            if (_keys.TryGetValue(key, out var turns)) turns.Renew(turn, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task ExitAsync(string key, Guid turn, string? error, bool abandoned)
    {
        lock (_keys)
        {
            if (!_keys.TryGetValue(key, out var turns)) return Task.CompletedTask;
            turns.Exit(turn, error, abandoned);
            if (turns.Idle) _keys.Remove(key);
        }
        return Task.CompletedTask;
    }
}
