namespace Tuning.Trials.Execution;

/// <summary>
/// A trial's time budget (<c>budget.trialTimeout</c>): its token is cancelled when the trial is stopped or has
/// run out of time. The clock runs while steps run and stands still while a step waits for a GPU, since
/// waiting for the machine is not the trial's doing.
/// </summary>
public sealed class TrialDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _outer;
    private readonly Lock _gate = new();
    private readonly TimeSpan? _limit;
    private TimeSpan _left;
    private DateTime _since = DateTime.UtcNow;
    private int _pauses;

    public TrialDeadline(TimeSpan? limit, CancellationToken cancellation)
    {
        _limit = limit;
        _left = limit ?? TimeSpan.Zero;
        _outer = cancellation;
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // Decided as the token is cancelled: a stop that comes after the time ran out does not make it a stop.
        _source.Token.Register(() => RanOut = !_outer.IsCancellationRequested);
        if (limit is { } l) _source.CancelAfter(l);
    }

    /// <summary>A deadline that never runs out, for a step run on its own.</summary>
    public static TrialDeadline None(CancellationToken cancellation) => new(null, cancellation);

    /// <summary>Cancelled when the trial is stopped or out of time.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Whether the trial ran out of time (rather than being stopped).</summary>
    public bool RanOut { get; private set; }

    /// <summary>Stops the clock until the returned handle is disposed (pauses may overlap).</summary>
    public IDisposable Pause()
    {
        if (_limit is null) return NoPause.Instance;
        lock (_gate)
        {
            if (_pauses++ == 0 && !_source.IsCancellationRequested)
            {
                _left -= DateTime.UtcNow - _since;
                _source.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
        return new Resume(this);
    }

    private void Continue()
    {
        lock (_gate)
        {
            if (--_pauses > 0 || _source.IsCancellationRequested) return;
            _since = DateTime.UtcNow;
            if (_left <= TimeSpan.Zero) _source.Cancel();
            else _source.CancelAfter(_left);
        }
    }

    public void Dispose() => _source.Dispose();

    private sealed class Resume(TrialDeadline deadline) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) deadline.Continue();
        }
    }

    private sealed class NoPause : IDisposable
    {
        public static readonly NoPause Instance = new();

        public void Dispose()
        {
        }
    }
}
