namespace Tuning.Trials.Execution;

/// <summary>
/// Devices lent to steps in shares: each device holds <see cref="Whole"/> shares, a step takes some shares of one
/// device (a fraction of it) or every share of several. Exact accounting in whole numbers, so four quarter-GPU steps
/// fill a device and a fifth waits; shares come back when their lease is disposed, whatever ended the step.
/// </summary>
/// <remarks>
/// Waiters take their turn one at a time, first come first served: two steps that each need two whole devices never
/// hold one each and wait forever, and a large request is not starved by a stream of small ones behind it.
/// </remarks>
public sealed class SharedDevices
{
    /// <summary>The shares of one whole device: 1000, so fractions down to 0.001 are exact.</summary>
    public const int Whole = 1000;

    private readonly int[] _free;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private TaskCompletionSource _released = NewSignal();

    public SharedDevices(IEnumerable<string> ids, int sharesEach = Whole)
    {
        Ids = ids.ToArray();
        SharesEach = sharesEach;
        _free = Enumerable.Repeat(sharesEach, Ids.Count).ToArray();
    }

    public IReadOnlyList<string> Ids { get; }

    /// <summary>The shares each device holds when nothing is lent.</summary>
    public int SharesEach { get; }

    /// <summary>The shares of each device not lent now, in <see cref="Ids"/> order.</summary>
    public IReadOnlyList<int> Free
    {
        get
        {
            lock (_free) return _free.ToArray();
        }
    }

    /// <summary>
    /// Waits, in turn, for <paramref name="shares"/> shares of one device (at most <see cref="SharesEach"/>), or for
    /// <paramref name="wholeDevices"/> devices with nothing lent; takes them. Of the devices that fit a share, the
    /// fullest is taken, so shares pack together and whole devices stay free for steps that need them.
    /// </summary>
    public async Task<DeviceLease> AcquireAsync(int shares, int wholeDevices, CancellationToken cancellation)
    {
        if (wholeDevices > Ids.Count || shares > SharesEach || (wholeDevices > 0 && shares > 0))
            throw new ArgumentException($"cannot take {wholeDevices} devices and {shares} shares of {Ids.Count} devices");
        await _turn.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Task released;
                lock (_free)
                {
                    if (TryTake(shares, wholeDevices) is { } taken) return new DeviceLease(this, taken);
                    released = _released.Task;
                }
                await released.WaitAsync(cancellation).ConfigureAwait(false);
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    private (int Device, int Shares)[]? TryTake(int shares, int wholeDevices)
    {
        if (wholeDevices > 0)
        {
            var idle = Enumerable.Range(0, _free.Length).Where(d => _free[d] == SharesEach).Take(wholeDevices).ToArray();
            if (idle.Length < wholeDevices) return null;
            foreach (var device in idle) _free[device] = 0;
            return idle.Select(device => (device, SharesEach)).ToArray();
        }
        var best = -1;
        for (var device = 0; device < _free.Length; device++)
            if (_free[device] >= shares && (best < 0 || _free[device] < _free[best]))
                best = device;
        if (best < 0) return null;
        _free[best] -= shares;
        return [(best, shares)];
    }

    internal void Return(IReadOnlyList<(int Device, int Shares)> taken)
    {
        TaskCompletionSource signal;
        lock (_free)
        {
            foreach (var (device, shares) in taken) _free[device] += shares;
            signal = _released;
            _released = NewSignal();
        }
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Shares of devices lent to one step; disposing gives them back (once, however often it is called).</summary>
public sealed class DeviceLease : IDisposable
{
    private readonly SharedDevices _devices;
    private readonly (int Device, int Shares)[] _taken;
    private int _returned;

    internal DeviceLease(SharedDevices devices, (int Device, int Shares)[] taken)
    {
        _devices = devices;
        _taken = taken;
        Ids = taken.Select(t => devices.Ids[t.Device]).ToArray();
    }

    /// <summary>The devices this lease holds shares of.</summary>
    public IReadOnlyList<string> Ids { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0) _devices.Return(_taken);
    }
}
