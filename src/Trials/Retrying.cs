using Polly;
using Polly.Retry;

namespace Tuning.Trials;

/// <summary>
/// The one way the tuner makes a failed call again (Polly's retry strategy): storing a trial's outcome through a
/// store that is away, a step-cache gate's call through a lost silo, a Job's delete, a trial folder whose files are
/// still being closed. Each caller says which failures are worth another try and how many; the backoff (doubling up
/// to a cap, or growing by its first delay each time) is Polly's, not one hand-written loop per caller.
/// </summary>
public static class Retrying
{
    /// <param name="worthRetrying">Which failures are tried again; any other is thrown at once.</param>
    /// <param name="first">The wait before the second try.</param>
    /// <param name="longest">The longest wait between two tries.</param>
    /// <param name="tries">How many tries in all, the first included; past them the last failure is thrown.</param>
    /// <param name="retrying">Told each failure that is tried again: the failure, which try failed (from 1), the wait before the next.</param>
    public static ResiliencePipeline Backoff(Func<Exception, bool> worthRetrying, TimeSpan first, TimeSpan longest, int tries = int.MaxValue,
        DelayBackoffType growth = DelayBackoffType.Exponential, Action<Exception, int, TimeSpan>? retrying = null) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle(worthRetrying),
            MaxRetryAttempts = tries == int.MaxValue ? int.MaxValue : tries - 1,
            Delay = first,
            MaxDelay = longest,
            BackoffType = growth,
            OnRetry = arguments =>
            {
                retrying?.Invoke(arguments.Outcome.Exception!, arguments.AttemptNumber + 1, arguments.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
}
