using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Tuning.Trials.Execution.Kubernetes;

/// <summary>
/// Runs each step as a Kubernetes Job (<see cref="StepJob"/>) and follows it by watching the Job and its pod, not by
/// polling: the pod's log is streamed for metric lines while it runs (and kept as <c>stdout.log</c>), its metrics
/// file is read from the shared claim as it grows, and a stop, timeout or early stop deletes the Job with foreground
/// propagation. What went wrong in the cluster becomes the trial's error in the cluster's own words
/// (ImagePullBackOff, ErrImagePull, OOMKilled, Evicted, Unschedulable, DeadlineExceeded).
/// </summary>
/// <remarks>
/// A step's rerun deletes the Job an earlier attempt left (same name: <see cref="StepJob.Name"/>) and waits until it
/// is gone before creating its own, rather than adopting it: every attempt starts with a clean trial folder, and a
/// pod of the earlier attempt would still be writing into the folder that was removed. So a step never has two Jobs.
/// </remarks>
public sealed class KubernetesExecutor(IKubernetes client, KubernetesSettings settings) : IStepExecutor
{
    /// <summary>How long a rerun waits for the Job of an earlier attempt to be deleted before it gives up.</summary>
    private static readonly TimeSpan DeletionWait = TimeSpan.FromMinutes(2);

    /// <summary>How long the log may go on after the Job completed (the last lines in flight).</summary>
    private static readonly TimeSpan LogGrace = TimeSpan.FromSeconds(5);

    /// <summary>Watches that fail this many times in a row (the API unreachable) fail the step.</summary>
    private const int WatchAttempts = 10;

    public KubernetesSettings Settings { get; } = settings;

    public bool SeesHostFolders => false;

    /// <summary>The executor the environment configures, or why there is none (the message names what to set).</summary>
    public static (KubernetesExecutor? Executor, string? Problem) Configure(Func<string, string?> environment)
    {
        var (found, problem) = KubernetesSettings.Read(environment);
        if (found is null) return (null, problem);
        var (connected, unreachable) = KubernetesSettings.Connect();
        return connected is null ? (null, unreachable) : (new KubernetesExecutor(connected, found), null);
    }

    /// <summary>
    /// The executor for a study whose file says <c>trial.kubernetes</c>: its Jobs in the study's namespace. A study
    /// cannot name another claim than the one this tuner has mounted, since the tuner reads and writes the steps'
    /// folders through it.
    /// </summary>
    public (KubernetesExecutor? Executor, string? Problem) For(Studies.KubernetesSpec? study)
    {
        if (study?.VolumeClaim is { } claim && claim != Settings.Claim)
            return (null, $"trial.kubernetes.volumeClaim '{claim}' is not the claim this tuner has mounted ('{Settings.Claim}', {KubernetesSettings.ClaimVariable}); " +
                "steps share their folders with the tuner through that claim");
        return study?.Namespace is { } space && space != Settings.Namespace
            ? (new KubernetesExecutor(client, Settings with { Namespace = space }), null)
            : (this, null);
    }

    public async Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline)
    {
        var clock = Stopwatch.StartNew();
        StepResult Failed(string error) => new(new MetricReport(), error, clock.Elapsed);
        if (string.IsNullOrWhiteSpace(step.Image)) return Failed($"step '{step.StepName}' names no image, and a Kubernetes Job needs one");
        var (folders, problem) = StepFolders.Of(step, Settings.VolumeRoot);
        if (folders is null) return Failed(problem!);
        // Made here, by the tuner, so that a pod's sub-path mounts find them (a missing sub-path is made by the
        // kubelet as root, which a step running as another user could not write).
        Directory.CreateDirectory(step.OutputDirectory);
        Directory.CreateDirectory(step.StepDirectory);

        var name = StepJob.Name(step.TrialId, step.StepName);
        using var working = deadline.Work();
        try
        {
            if (!await RemoveAsync(name, waitUntilGone: true, deadline.Token).ConfigureAwait(false))
                return Failed($"step '{step.StepName}': the Job {name} an earlier attempt left is still being deleted after {DeletionWait.TotalMinutes:0} minutes");
            await client.BatchV1.CreateNamespacedJobAsync(StepJob.Build(step, folders, Settings, deadline.Left), Settings.Namespace,
                cancellationToken: deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
        {
            await RemoveAsync(name, waitUntilGone: false, CancellationToken.None).ConfigureAwait(false);
            return Failed($"step '{step.StepName}' was killed");
        }
        catch (HttpOperationException e)
        {
            return Failed($"step '{step.StepName}': Kubernetes refused Job {name}: {Said(e)}");
        }
        catch (HttpRequestException e)
        {
            return Failed($"step '{step.StepName}': could not reach the Kubernetes API: {e.Message}");
        }
        return await FollowAsync(step, name, deadline, clock).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the Jobs earlier runs left for steps under <paramref name="folder"/> (with their pods). An API that
    /// cannot be reached now is no reason to stop a silo starting: each step's rerun deletes its own Job first.
    /// </summary>
    public async Task ReclaimAsync(string folder)
    {
        var under = Path.GetFullPath(folder).TrimEnd('/') + "/";
        try
        {
            var jobs = await client.BatchV1.ListNamespacedJobAsync(Settings.Namespace, labelSelector: $"{StepJob.ManagedByLabel}={StepJob.ManagedBy}").ConfigureAwait(false);
            foreach (var job in jobs.Items)
                if (job.Metadata.Annotations is { } annotations && annotations.TryGetValue(StepJob.StepFolderAnnotation, out var stepFolder)
                    && (stepFolder.TrimEnd('/') + "/").StartsWith(under, StringComparison.Ordinal))
                    await RemoveAsync(job.Metadata.Name, waitUntilGone: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or HttpOperationException)
        {
        }
    }

    /// <summary>What the watches saw, in the order they saw it; one reader decides.</summary>
    private abstract record Seen;

    private sealed record JobSeen(V1Job Job, bool Deleted) : Seen;

    private sealed record PodSeen(V1Pod Pod) : Seen;

    /// <summary>The unschedulable grace ran out: look at the pod again.</summary>
    private sealed record Recheck : Seen;

    private sealed record WatchLost(string Why) : Seen;

    private async Task<StepResult> FollowAsync(StepInvocation step, string name, TrialDeadline deadline, Stopwatch clock)
    {
        var metrics = new MetricReport();
        void Read(string line, bool json)
        {
            var reported = new MetricReport();
            if (!(json ? reported.ReadJsonLine(line) : reported.ReadLine(line))) return;
            lock (metrics) metrics.MergeLine(reported);
            step.Reported?.Invoke(reported);
        }
        var logPath = Path.Combine(step.StepDirectory, "stdout.log");
        var metricsFile = new AppendedLines(Path.Combine(step.StepDirectory, "metrics.jsonl"), line => Read(line, json: true));

        using var watching = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var seen = Channel.CreateUnbounded<Seen>();
        var jobWatch = WatchAsync(
            cancel => client.BatchV1.WatchListNamespacedJobAsync(Settings.Namespace, fieldSelector: $"metadata.name={name}", cancellationToken: cancel),
            (type, job) => new JobSeen(job, type == WatchEventType.Deleted), seen.Writer, watching.Token);
        var podWatch = WatchAsync(
            cancel => client.CoreV1.WatchListNamespacedPodAsync(Settings.Namespace, labelSelector: $"{StepJob.JobLabel}={name}", cancellationToken: cancel),
            (_, pod) => new PodSeen(pod), seen.Writer, watching.Token);
        var metricsReader = ReadGrowingAsync(metricsFile, watching.Token);

        Task? log = null;
        V1Pod? pod = null;
        DateTime? unschedulableSince = null;
        string? error = null;
        V1JobCondition? jobFailed = null;
        var killed = false;
        try
        {
            await foreach (var item in seen.Reader.ReadAllAsync(watching.Token).ConfigureAwait(false))
            {
                bool finished;
                (finished, error) = item switch
                {
                    JobSeen { Deleted: true } => (true, $"step '{step.StepName}': Job {name} was deleted outside the tuner"),
                    JobSeen { Job: var job } when Condition(job, "Complete") is not null => (true, null),
                    JobSeen { Job: var job } when Condition(job, "Failed") is { } failed => (true, (jobFailed = failed).Reason ?? "Failed"),
                    WatchLost lost => (true, $"step '{step.StepName}': lost the Kubernetes API while watching Job {name}: {lost.Why}"),
                    _ => (false, null),
                };
                if (item is PodSeen { Pod: var latest }) pod = latest;
                if (!finished && item is PodSeen or Recheck && pod is not null)
                {
                    if (PodFailure(step, pod) is { } podFailure) (finished, error) = (true, podFailure);
                    else if (Unschedulable(pod) is { } why)
                    {
                        unschedulableSince ??= DateTime.UtcNow;
                        var graceLeft = Settings.UnschedulableGrace - (DateTime.UtcNow - unschedulableSince.Value);
                        if (graceLeft <= TimeSpan.Zero)
                            (finished, error) = (true, $"step '{step.StepName}': its pod stayed Unschedulable for {Settings.UnschedulableGrace.TotalSeconds:0} s: {why}");
                        else
                            _ = RecheckAfterAsync(graceLeft, seen.Writer, watching.Token);
                    }
                    else unschedulableSince = null;
                }
                // The log is read from the moment the container runs, so metric lines reach the trial as they come.
                if (log is null && pod?.Status?.Phase is "Running" or "Succeeded" or "Failed")
                    log = StreamLogAsync(pod.Metadata.Name, logPath, line => Read(line, json: false), watching.Token);
                if (finished) break;
            }
        }
        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
        {
            killed = true;
        }

        if (!killed && (error is null || jobFailed is not null))
        {
            // The pod as it ended (its exit code), and its log to the end: the last line says why it failed, and a
            // Job done before its pod was seen running has its log read whole now.
            pod = await NewestPodAsync(name).ConfigureAwait(false) ?? pod;
            if (log is null && pod is not null)
                log = StreamLogAsync(pod.Metadata.Name, logPath, line => Read(line, json: false), watching.Token);
            if (log is not null) await LocalExecutor.Finishes(log, LogGrace).ConfigureAwait(false);
            if (jobFailed is not null) error = JobFailure(step, jobFailed, pod, logPath);
        }
        else await RemoveAsync(name, waitUntilGone: false, CancellationToken.None).ConfigureAwait(false);
        await watching.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(jobWatch, podWatch, metricsReader, log ?? Task.CompletedTask).ConfigureAwait(false);
        metricsFile.Finish();
        if (killed) error = $"step '{step.StepName}' was killed";
        lock (metrics) return new StepResult(metrics, error, clock.Elapsed);
    }

    /// <summary>
    /// Feeds one watch's events into <paramref name="seen"/> until cancelled. A watch the server ends (they time
    /// out) is started again; the events are states, not changes, so one seen twice does no harm.
    /// </summary>
    private static async Task WatchAsync<T>(Func<CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        Func<WatchEventType, T, Seen> toSeen, ChannelWriter<Seen> seen, CancellationToken cancel)
    {
        var failures = 0;
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await foreach (var (type, item) in watch(cancel).ConfigureAwait(false))
                {
                    failures = 0;
                    if (type is WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted)
                        seen.TryWrite(toSeen(type, item));
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or HttpOperationException or IOException or KubernetesException)
            {
                if (++failures >= WatchAttempts)
                {
                    seen.TryWrite(new WatchLost(e.Message));
                    return;
                }
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancel).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static async Task RecheckAfterAsync(TimeSpan wait, ChannelWriter<Seen> seen, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(wait, cancel).ConfigureAwait(false);
            seen.TryWrite(new Recheck());
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task ReadGrowingAsync(AppendedLines file, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(LocalExecutor.MetricsFilePoll);
        try
        {
            while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false)) file.ReadNew();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Follows the step container's log to its end into <paramref name="logPath"/>, line by line.</summary>
    private async Task StreamLogAsync(string podName, string logPath, Action<string> onLine, CancellationToken cancel)
    {
        try
        {
            await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(podName, Settings.Namespace, container: StepJob.ContainerName,
                follow: true, cancellationToken: cancel).ConfigureAwait(false);
            using var reader = new StreamReader(stream);
            await LocalExecutor.CopyLinesAsync(reader, logPath, onLine, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpOperationException or HttpRequestException or IOException)
        {
        }
    }

    private async Task<V1Pod?> NewestPodAsync(string name)
    {
        try
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync(Settings.Namespace, labelSelector: $"{StepJob.JobLabel}={name}").ConfigureAwait(false);
            return pods.Items.OrderBy(pod => pod.Metadata.CreationTimestamp).LastOrDefault();
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes the Job and, by foreground propagation, its pods first. With <paramref name="waitUntilGone"/>, returns
    /// once the API no longer lists it (false if that took longer than <see cref="DeletionWait"/>).
    /// </summary>
    private async Task<bool> RemoveAsync(string name, bool waitUntilGone, CancellationToken cancel)
    {
        try
        {
            await client.BatchV1.DeleteNamespacedJobAsync(name, Settings.Namespace, new V1DeleteOptions { PropagationPolicy = "Foreground" },
                cancellationToken: cancel).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
        catch (Exception e) when (!waitUntilGone && e is HttpOperationException or HttpRequestException)
        {
            // Best effort on the way out: activeDeadlineSeconds and the TTL end what a failed delete leaves.
            return false;
        }
        if (!waitUntilGone) return true;

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bounded.CancelAfter(DeletionWait);
        try
        {
            while (true)
            {
                var listed = await client.BatchV1.ListNamespacedJobAsync(Settings.Namespace, fieldSelector: $"metadata.name={name}",
                    cancellationToken: bounded.Token).ConfigureAwait(false);
                if (listed.Items.Count == 0) return true;
                // Watched from the listing's version on, so the deletion cannot slip between the list and the watch.
                var watch = client.BatchV1.WatchListNamespacedJobAsync(Settings.Namespace, fieldSelector: $"metadata.name={name}",
                    resourceVersion: listed.Metadata?.ResourceVersion, cancellationToken: bounded.Token);
                await foreach (var (type, _) in watch.ConfigureAwait(false))
                    if (type == WatchEventType.Deleted) return true;
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return false;
        }
    }

    private static V1JobCondition? Condition(V1Job job, string type) =>
        job.Status?.Conditions?.FirstOrDefault(condition => condition.Type == type && condition.Status == "True");

    /// <summary>Why the pod cannot succeed, seen while it is still pending or running; null while it may.</summary>
    private static string? PodFailure(StepInvocation step, V1Pod pod)
    {
        if (pod.Status?.Reason == "Evicted")
            return $"step '{step.StepName}': its pod was Evicted: {pod.Status.Message}";
        foreach (var container in pod.Status?.ContainerStatuses ?? [])
        {
            if (container.State?.Waiting is { Reason: "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName" } waiting)
                return $"step '{step.StepName}': image '{step.Image}' could not be pulled ({waiting.Reason}): {waiting.Message}";
            if (container.State?.Waiting is { Reason: "CreateContainerConfigError" or "CreateContainerError" } config)
                return $"step '{step.StepName}': its container could not be created ({config.Reason}): {config.Message}";
            if (container.State?.Terminated is { Reason: "OOMKilled" })
                return OutOfMemory(step);
        }
        return null;
    }

    private static string OutOfMemory(StepInvocation step) =>
        $"step '{step.StepName}' ran out of memory (OOMKilled){(step.Resources.Memory is { } limit ? $" with its limit of {limit}" : "")}";

    private static string? Unschedulable(V1Pod pod) =>
        pod.Status?.Conditions?.FirstOrDefault(condition => condition is { Type: "PodScheduled", Status: "False", Reason: "Unschedulable" })?.Message
            is { } message ? message : null;

    /// <summary>Why a Job the cluster marked Failed failed: its deadline, else what its pod's container did.</summary>
    private static string JobFailure(StepInvocation step, V1JobCondition failed, V1Pod? pod, string logPath)
    {
        if (failed.Reason == "DeadlineExceeded")
            return $"step '{step.StepName}' ran past the trial's time and the cluster ended it (DeadlineExceeded): {failed.Message}";
        if (pod is not null && PodFailure(step, pod) is { } podFailure) return podFailure;
        var terminated = pod?.Status?.ContainerStatuses?.FirstOrDefault(container => container.Name == StepJob.ContainerName)?.State?.Terminated;
        if (terminated is { ExitCode: not 0 })
            return $"step '{step.StepName}' exited with code {terminated.ExitCode}{(LocalExecutor.LastLine(logPath) is { } last ? ": " + last : "")}";
        return $"step '{step.StepName}': Job failed ({failed.Reason}): {failed.Message}";
    }

    /// <summary>What the API said when it refused: the message of its Status, else the HTTP status.</summary>
    private static string Said(HttpOperationException e)
    {
        try
        {
            if (KubernetesJson.Deserialize<V1Status>(e.Response.Content) is { Message: { Length: > 0 } message }) return message;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return $"{(int)e.Response.StatusCode} {e.Response.StatusCode}";
    }
}
