using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tuning.Trials;

/// <summary>
/// Work that outlives the call that started it (a trial's run, the resume of running studies, a Job's delete tried
/// again for minutes): kept here rather than dropped as a bare <c>Task.Run</c>, so a failure is reported instead of
/// lost, and a stopping silo can wait for what is still in flight (<see cref="DrainAsync"/>).
/// </summary>
/// <param name="failed">Told what failed and why; by default the failure goes to <see cref="Trace"/>.</param>
public sealed class BackgroundWork(Action<string, Exception>? failed = null)
{
    private readonly ConcurrentDictionary<Task, string> _running = new();
    private readonly Action<string, Exception> _failed = failed ?? ((what, e) => Trace.TraceError($"{what} failed: {e}"));

    /// <summary>What is in flight now, as each was named when started.</summary>
    public IReadOnlyCollection<string> Running => _running.Values.ToArray();

    /// <summary>Runs <paramref name="work"/> on the thread pool, named <paramref name="what"/> in reports; the task ends when it does.</summary>
    public Task Run(string what, Func<Task> work)
    {
        var task = Task.Run(work);
        _running[task] = what;
        // Registered after the task is listed: a continuation on a task already ended runs at once, so none is left listed.
        return task.ContinueWith(ended =>
        {
            _running.TryRemove(ended, out _);
            if (ended.Exception is { } e) _failed(what, e.InnerExceptions.Count == 1 ? e.InnerException! : e);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Waits until nothing is in flight (work started meanwhile included), or <paramref name="cancellation"/> says
    /// to stop waiting; returns what is still running then.
    /// </summary>
    public async Task<IReadOnlyCollection<string>> DrainAsync(CancellationToken cancellation)
    {
        while (!_running.IsEmpty && !cancellation.IsCancellationRequested)
        {
            try
            {
                await Task.WhenAll(_running.Keys).WaitAsync(cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
            }
            catch
            {
                // Each failure is reported as its work ends; here only the end matters.
            }
            // An ended task leaves the list in its continuation, which may run just after this wait saw it end.
            await Task.Yield();
        }
        return Running;
    }
}
