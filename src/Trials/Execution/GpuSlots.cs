using System.Diagnostics;

namespace Tuning.Trials.Execution;

/// <summary>
/// The GPUs of this machine, lent to steps that ask for them (<c>resources: {gpu: N}</c>): each GPU serves one
/// step at a time, and a step that finds too few free waits for them instead of sharing. Steps see only
/// their GPUs, through <c>CUDA_VISIBLE_DEVICES</c>.
/// </summary>
public sealed class GpuSlots
{
    public const string Variable = "TUNER_GPUS";

    private readonly Queue<string> _free;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private TaskCompletionSource _released = NewSignal();

    public GpuSlots(IEnumerable<string> ids)
    {
        Ids = ids.ToArray();
        _free = new Queue<string>(Ids);
    }

    public static readonly GpuSlots None = new([]);

    public IReadOnlyList<string> Ids { get; }

    public int Count => Ids.Count;

    /// <summary>
    /// The GPUs to lend: <c>TUNER_GPUS</c> (a list like <c>0,1</c>, or <c>none</c>), else those that
    /// <c>CUDA_VISIBLE_DEVICES</c> leaves this process, else every GPU <c>nvidia-smi</c> lists, else none.
    /// </summary>
    public static GpuSlots Detect(Func<string, string?>? environment = null, Func<IReadOnlyList<string>>? query = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        query ??= QueryNvidiaSmi;
        if (environment(Variable) is { } listed)
            return listed.Trim() is "" or "none" ? None : new GpuSlots(Split(listed));
        if (environment("CUDA_VISIBLE_DEVICES") is { } visible)
            return new GpuSlots(Split(visible).Where(id => id != "-1"));
        return new GpuSlots(query());
    }

    private static IEnumerable<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IReadOnlyList<string> QueryNvidiaSmi()
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", "--query-gpu=index --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(10_000);
            return process.ExitCode == 0 ? Split(output.Replace('\n', ',')).ToArray() : [];
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return []; // no nvidia-smi: no GPUs to lend
        }
    }

    /// <summary>Waits, in turn, until <paramref name="count"/> GPUs are free and takes them.</summary>
    public async Task<GpuLease> AcquireAsync(int count, CancellationToken cancellation)
    {
        if (count > Count)
            throw new InvalidOperationException($"{count} GPUs asked for, {Count} on this machine");
        // One waiter at a time takes GPUs, so two steps that each need two never hold one each and wait forever.
        await _turn.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Task released;
                lock (_free)
                {
                    if (_free.Count >= count)
                        return new GpuLease(this, Enumerable.Range(0, count).Select(_ => _free.Dequeue()).ToArray());
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

    internal void Return(IReadOnlyList<string> ids)
    {
        TaskCompletionSource signal;
        lock (_free)
        {
            foreach (var id in ids) _free.Enqueue(id);
            signal = _released;
            _released = NewSignal();
        }
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>GPUs lent to one step; disposing gives them back.</summary>
public sealed class GpuLease(GpuSlots slots, IReadOnlyList<string> ids) : IDisposable
{
    private int _returned;

    public IReadOnlyList<string> Ids { get; } = ids;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0) slots.Return(Ids);
    }
}
