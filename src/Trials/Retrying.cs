using Polly;
using Polly.Retry;

namespace Tuning.Trials;

/// <summary>
/// The one way the tuner makes a failed call again (Polly's retry strategy): storing a trial's outcome through a
/// store that is away, a step-cache gate's call through a lost silo, a Job's delete, a trial folder whose files are
/// still being closed. Each caller says which failures are worth another try and how many; the backoff (doubling up
/// to a cap, or growing by its first delay each time) is Polly's, not one hand-written loop per caller.
/// </summary>
/// <remarks>
/// A pipeline is built once and kept, not built per call: building one validates its options by reflection, and the
/// calls made at every trial (its outcome stored and reported, its cached step's gate entered and left) spent about
/// 2% of tuner run's CPU building their pipelines. What differs between calls (a deadline, what to log) travels in
/// the call's <see cref="ResilienceContext"/>: <see cref="ExecuteAsync"/>.
/// </remarks>
public static class Retrying
{
    /// <param name="worthRetrying">Which failures of a call, given its context, are tried again; any other is thrown at once.</param>
    /// <param name="first">The wait before the second try.</param>
    /// <param name="longest">The longest wait between two tries.</param>
    /// <param name="tries">How many tries in all, the first included; past them the last failure is thrown.</param>
    /// <param name="retrying">Told each failure that is tried again: the failure, which try failed (from 1), the wait before the next, the call's context.</param>
    public static ResiliencePipeline Backoff(Func<Exception, ResilienceContext, bool> worthRetrying, TimeSpan first, TimeSpan longest, int tries = int.MaxValue,
        DelayBackoffType growth = DelayBackoffType.Exponential, Action<Exception, int, TimeSpan, ResilienceContext>? retrying = null) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = arguments => ValueTask.FromResult(arguments.Outcome.Exception is { } failure && worthRetrying(failure, arguments.Context)),
            MaxRetryAttempts = tries == int.MaxValue ? int.MaxValue : tries - 1,
            Delay = first,
            MaxDelay = longest,
            BackoffType = growth,
            OnRetry = arguments =>
            {
                retrying?.Invoke(arguments.Outcome.Exception!, arguments.AttemptNumber + 1, arguments.RetryDelay, arguments.Context);
                return ValueTask.CompletedTask;
            },
        }).Build();

    /// <summary>
    /// Makes <paramref name="call"/> through <paramref name="pipeline"/> with a context that carries <paramref name="property"/>'s
    /// value, for the pipeline's predicate and callback to read. <paramref name="cancellation"/> ends the waits between
    /// tries, and a call cancelled before it starts is not tried at all.
    /// </summary>
    public static async Task<T> ExecuteAsync<T, TProperty>(this ResiliencePipeline pipeline, Func<Task<T>> call, ResiliencePropertyKey<TProperty> property, TProperty value,
        CancellationToken cancellation = default)
    {
        var context = ResilienceContextPool.Shared.Get(cancellation);
        context.Properties.Set(property, value);
        try
        {
            return await pipeline.ExecuteAsync(static async (_, call) => await call().ConfigureAwait(false), context, call).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
