namespace Tuning.Trials.Execution;

/// <summary>
/// A trial's time budget (<c>budget.trialTimeout</c>): its token is cancelled when the trial is stopped or has run
/// out of time. The clock runs while any step of the trial works, and between steps; it stands still only while
/// every step that has started is waiting for the machine (a GPU, cores, another trial's run of a cached step),
/// since that waiting is not the trial's doing. A step that waits beside one that works does not stop the clock.
/// </summary>
public sealed class TrialDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly Lock _gate = new();
    private readonly Timer? _timer;
    private TimeSpan _left;
    private long _since = System.Diagnostics.Stopwatch.GetTimestamp();
    private bool _ticking;
    private int _waiting;
    private int _working;

    public TrialDeadline(TimeSpan? limit, CancellationToken cancellation)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (limit is not { } l) return;
        _left = l;
        // Our own timer rather than CancelAfter: the trial is marked as out of time before its token is cancelled,
        // so whoever sees the token cancelled can already tell a timeout from a stop.
        _timer = new Timer(_ => RunOut(), null, Timeout.Infinite, Timeout.Infinite);
        lock (_gate) Update();
    }

    /// <summary>A deadline that never runs out, for a step run on its own.</summary>
    public static TrialDeadline None(CancellationToken cancellation) => new(null, cancellation);

    /// <summary>Cancelled when the trial is stopped or out of time.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Whether the trial ran out of time (rather than being stopped); set before <see cref="Token"/> is cancelled.</summary>
    public bool RanOut { get; private set; }

    /// <summary>The time the trial has left now, or null where it has no limit: what a cluster is told as its own deadline.</summary>
    public TimeSpan? Left
    {
        get
        {
            if (_timer is null) return null;
            lock (_gate)
                return _ticking ? _left - System.Diagnostics.Stopwatch.GetElapsedTime(_since) : _left;
        }
    }

    /// <summary>Marks a step waiting for the machine until the handle is disposed: the clock stops if no step works.</summary>
    public IDisposable Pause() => Mark(waiting: true);

    /// <summary>Marks a step at work until the handle is disposed: the clock runs, whatever other steps wait for.</summary>
    public IDisposable Work() => Mark(waiting: false);

    private IDisposable Mark(bool waiting)
    {
        if (_timer is null) return NoMark.Instance;
        lock (_gate)
        {
            if (waiting) _waiting++;
            else _working++;
            Update();
        }
        return new Unmark(this, waiting);
    }

    private void Release(bool waiting)
    {
        lock (_gate)
        {
            if (waiting) _waiting--;
            else _working--;
            Update();
        }
    }

    /// <summary>Starts or stops the clock as the steps' state now calls for. Called under the lock.</summary>
    private void Update()
    {
        if (_source.IsCancellationRequested || RanOut) return;
        var tick = _working > 0 || _waiting == 0;
        if (tick == _ticking) return;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_ticking) _left -= System.Diagnostics.Stopwatch.GetElapsedTime(_since, now);
        _since = now;
        _ticking = tick;
        _timer!.Change(tick ? (_left > TimeSpan.Zero ? _left : TimeSpan.Zero) : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void RunOut()
    {
        lock (_gate)
        {
            // A tick that raced with a pause changes nothing; one a little early waits for the rest.
            if (!_ticking || _source.IsCancellationRequested) return;
            var remaining = _left - System.Diagnostics.Stopwatch.GetElapsedTime(_since);
            if (remaining > TimeSpan.FromMilliseconds(1))
            {
                _timer!.Change(remaining, Timeout.InfiniteTimeSpan);
                return;
            }
            RanOut = true;
        }
        _source.Cancel();
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _source.Dispose();
    }

    private sealed class Unmark(TrialDeadline deadline, bool waiting) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) deadline.Release(waiting);
        }
    }

    private sealed class NoMark : IDisposable
    {
        public static readonly NoMark Instance = new();

        public void Dispose()
        {
        }
    }
}
