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
/// <param name="background">Where Job deletes tried again in the background are kept, for a stopping silo to wait for.</param>
public sealed class KubernetesExecutor(IKubernetes client, KubernetesSettings settings, BackgroundWork? background = null) : IStepExecutor
{
    private readonly BackgroundWork _background = background ?? new BackgroundWork();

    /// <summary>How long a rerun waits for the Job of an earlier attempt to be deleted before it gives up.</summary>
    private static readonly TimeSpan DeletionWait = TimeSpan.FromMinutes(2);

    /// <summary>How long the log may go on after the Job ended (the last lines in flight).</summary>
    private static readonly TimeSpan LogGrace = TimeSpan.FromSeconds(5);

    /// <summary>How long the API may be unreachable (a control-plane upgrade) before the steps that watch it fail.</summary>
    private static readonly TimeSpan WatchGiveUp = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(30);

    public KubernetesSettings Settings { get; } = settings;

    public bool SeesHostFolders => false;

    /// <summary>The executor the environment configures, or why there is none (the message names what to set).</summary>
    public static (KubernetesExecutor? Executor, string? Problem) Configure(Func<string, string?> environment, BackgroundWork? background = null)
    {
        var (found, problem) = KubernetesSettings.Read(environment);
        if (found is null) return (null, problem);
        var (connected, unreachable) = KubernetesSettings.Connect();
        return connected is null ? (null, unreachable) : (new KubernetesExecutor(connected, found, background), null);
    }

    /// <summary>
    /// This executor for a study whose file says <c>trial.kubernetes</c>, or why it cannot serve it: a claim belongs
    /// to one namespace and the tuner reaches the steps' folders through its own claim, so a study can name neither
    /// another namespace nor another claim than the tuner's.
    /// </summary>
    public (KubernetesExecutor? Executor, string? Problem) For(Studies.KubernetesSpec? study)
    {
        if (study?.VolumeClaim is { } claim && claim != Settings.Claim)
            return (null, $"trial.kubernetes.volumeClaim '{claim}' is not the claim this tuner has mounted ('{Settings.Claim}', {KubernetesSettings.ClaimVariable}); " +
                "steps share their folders with the tuner through that claim");
        if (study?.Namespace is { } space && space != Settings.Namespace)
            return (null, $"trial.kubernetes.namespace '{space}' is not the tuner's namespace ('{Settings.Namespace}', {KubernetesSettings.NamespaceVariable}); " +
                "steps mount the tuner's claim, which lives in its namespace");
        return (this, null);
    }

    public async Task<StepResult> RunAsync(StepInvocation step, TrialDeadline deadline)
    {
        var clock = Stopwatch.StartNew();
        StepResult Failed(string error, bool infrastructure = false) => new(new MetricReport(), error, clock.Elapsed, infrastructure);
        if (string.IsNullOrWhiteSpace(step.Image)) return Failed($"step '{step.StepName}' names no image, and a Kubernetes Job needs one");
        var (folders, problem) = StepFolders.Of(step, Settings.VolumeRoot);
        if (folders is null) return Failed(problem!);

        var name = StepJob.Name(step.TrialId, step.StepName);
        using var working = deadline.Work();
        try
        {
            if (!await RemoveAsync(name, waitUntilGone: true, deadline.Token).ConfigureAwait(false))
                return Failed($"step '{step.StepName}': the Job {name} an earlier attempt left is still being deleted after {DeletionWait.TotalMinutes:0} minutes", infrastructure: true);
            // Made once the earlier attempt's pods are gone, by the tuner, so that the pod's sub-path mounts find
            // them; writable by any user, since the image may run its step as another one than the tuner's.
            foreach (var folder in new[] { step.StepDirectory, step.OutputDirectory })
            {
                Directory.CreateDirectory(folder);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
            }
            await client.BatchV1.CreateNamespacedJobAsync(StepJob.Build(step, folders, Settings, deadline.Left), Settings.Namespace,
                cancellationToken: deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
        {
            RemoveInBackground(name);
            return Failed($"step '{step.StepName}' was killed");
        }
        catch (HttpOperationException e)
        {
            return Failed($"step '{step.StepName}': Kubernetes refused Job {name}: {Said(e)}");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or KubernetesException)
        {
            // The client's own request timeout ends a call to an API that does not answer as a cancellation too.
            return Failed($"step '{step.StepName}': could not reach the Kubernetes API: {e.Message}", infrastructure: true);
        }
        catch (FormatException e)
        {
            return Failed($"step '{step.StepName}': its resources are not Kubernetes quantities: {e.Message}");
        }
        return await FollowAsync(step, name, deadline, clock).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the Jobs earlier runs left for steps under <paramref name="folder"/> (with their pods), and waits until
    /// they are gone: the folder is removed next. An API that cannot be reached now is no reason to stop a silo
    /// starting: each step's rerun deletes its own Job first.
    /// </summary>
    public async Task ReclaimAsync(string folder)
    {
        var under = Path.GetFullPath(folder).TrimEnd('/') + "/";
        try
        {
            var jobs = await client.BatchV1.ListNamespacedJobAsync(Settings.Namespace, labelSelector: $"{StepJob.ManagedByLabel}={StepJob.ManagedBy}").ConfigureAwait(false);
            await Task.WhenAll(jobs.Items
                .Where(job => job.Metadata.Annotations is { } annotations && annotations.TryGetValue(StepJob.StepFolderAnnotation, out var stepFolder)
                    && (stepFolder.TrimEnd('/') + "/").StartsWith(under, StringComparison.Ordinal))
                .Select(job => RemoveAsync(job.Metadata.Name, waitUntilGone: true, CancellationToken.None))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or HttpOperationException or OperationCanceledException or KubernetesException)
        {
        }
    }

    /// <summary>What the watches saw, in the order they saw it; one reader decides.</summary>
    private abstract record Seen;

    private sealed record JobSeen(V1Job Job) : Seen;

    /// <summary>The Job is not there any more (deleted, or removed by its time to live while no watch ran).</summary>
    private sealed record JobGone : Seen;

    private sealed record PodSeen(V1Pod Pod) : Seen;

    /// <summary>A grace ran out (unschedulable, no pod yet): look at the pod again.</summary>
    private sealed record Recheck : Seen;

    private sealed record WatchLost(string Why) : Seen;

    /// <summary>
    /// Why a step failed; whether the cluster rather than the step was to blame (worth a retry); and whether the tuner
    /// abandons the Job (it would wait for ever, for an image never pulled or a node, or the tuner can no longer see
    /// it end), deleting it rather than letting it end by itself.
    /// </summary>
    private sealed record Failure(string Error, bool Infrastructure = false, bool Abandon = false)
    {
        /// <summary>The Failed condition of a Job that ended by itself; what the failure was is read from its pod.</summary>
        public V1JobCondition? JobFailed { get; init; }
    }

    private async Task<StepResult> FollowAsync(StepInvocation step, string name, TrialDeadline deadline, Stopwatch clock)
    {
        var metrics = new MetricReport(step.NamedMetrics);
        void Read(NumberedLine line, bool json)
        {
            MetricReport? reported;
            lock (metrics) reported = metrics.ReadNumberedLine(line.Text, json, LocalExecutor.MetricSource(step, json), line.Number);
            if (reported is not null) step.Reported?.Invoke(reported);
        }
        var logPath = Path.Combine(step.StepDirectory, "stdout.log");
        var metricsFile = new AppendedLines(Path.Combine(step.StepDirectory, "metrics.jsonl"), new LineCounter(line => Read(line, json: true)).Read);
        // One count across the log streams opened again after a cut, which go on where the last one stopped.
        var logLines = new LineCounter(line => Read(line, json: false));

        using var watching = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var seen = Channel.CreateUnbounded<Seen>();
        var jobWatch = WatchAsync(
            async cancel => await client.BatchV1.ListNamespacedJobAsync(Settings.Namespace, fieldSelector: $"metadata.name={name}", cancellationToken: cancel).ConfigureAwait(false) is var list
                ? (list.Items, list.Metadata?.ResourceVersion) : default,
            (version, onError, cancel) => client.BatchV1.WatchListNamespacedJobAsync(Settings.Namespace, fieldSelector: $"metadata.name={name}",
                resourceVersion: version, onError: onError, cancellationToken: cancel),
            (type, job) => type == WatchEventType.Deleted ? new JobGone() : new JobSeen(job), absent: () => new JobGone(), seen.Writer, watching.Token);
        var podWatch = WatchAsync(
            async cancel => await client.CoreV1.ListNamespacedPodAsync(Settings.Namespace, labelSelector: $"{StepJob.JobLabel}={name}", cancellationToken: cancel).ConfigureAwait(false) is var list
                ? (list.Items, list.Metadata?.ResourceVersion) : default,
            (version, onError, cancel) => client.CoreV1.WatchListNamespacedPodAsync(Settings.Namespace, labelSelector: $"{StepJob.JobLabel}={name}",
                resourceVersion: version, onError: onError, cancellationToken: cancel),
            (_, pod) => new PodSeen(pod), absent: null, seen.Writer, watching.Token);
        var metricsReader = ReadGrowingAsync(metricsFile, watching.Token);
        // A Job whose pod is never made (a quota, an admission policy) shows no condition at all: looked at again then.
        var created = DateTime.UtcNow;
        _ = RecheckAfterAsync(Settings.UnschedulableGrace, seen.Writer, watching.Token);

        Task? log = null;
        V1Pod? pod = null;
        DateTime? unschedulableSince = null;
        Failure? failure = null;
        var killed = false;
        try
        {
            await foreach (var item in seen.Reader.ReadAllAsync(watching.Token).ConfigureAwait(false))
            {
                var finished = false;
                switch (item)
                {
                    case JobGone:
                        (finished, failure) = (true, new Failure($"step '{step.StepName}': Job {name} was deleted outside the tuner", Infrastructure: true));
                        break;
                    case JobSeen { Job: var job } when Condition(job, "Complete") is not null:
                        finished = true;
                        break;
                    case JobSeen { Job: var job } when Condition(job, "Failed") is { } failed:
                        // Why it failed is told once the pod's end and its log are in (below).
                        (finished, failure) = (true, new Failure(failed.Reason ?? "Failed") { JobFailed = failed });
                        break;
                    case WatchLost lost:
                        (finished, failure) = (true, new Failure($"step '{step.StepName}': lost the Kubernetes API while watching Job {name}: {lost.Why}", Infrastructure: true, Abandon: true));
                        break;
                    case PodSeen { Pod: var latest }:
                        pod = latest;
                        break;
                }
                if (!finished && item is PodSeen or Recheck)
                {
                    if (pod is null)
                    {
                        var graceLeft = Settings.UnschedulableGrace - (DateTime.UtcNow - created);
                        if (graceLeft <= TimeSpan.Zero)
                            (finished, failure) = (true, new Failure($"step '{step.StepName}': no pod was made for Job {name} within {Settings.UnschedulableGrace.TotalSeconds:0} s " +
                                $"(a resource quota or an admission policy refusing it? see kubectl describe job {name})", Abandon: true));
                        else if (item is Recheck)
                            _ = RecheckAfterAsync(graceLeft, seen.Writer, watching.Token);
                    }
                    else if (PodFailure(step, pod) is { } podFailure) (finished, failure) = (true, podFailure);
                    else if (Unschedulable(pod) is { } why)
                    {
                        unschedulableSince ??= DateTime.UtcNow;
                        var graceLeft = Settings.UnschedulableGrace - (DateTime.UtcNow - unschedulableSince.Value);
                        if (graceLeft <= TimeSpan.Zero)
                            (finished, failure) = (true, new Failure($"step '{step.StepName}': its pod stayed Unschedulable for {Settings.UnschedulableGrace.TotalSeconds:0} s: {why}", Abandon: true));
                        else
                            _ = RecheckAfterAsync(graceLeft, seen.Writer, watching.Token);
                    }
                    else unschedulableSince = null;
                }
                // The log is read from the moment the container runs, so metric lines reach the trial as they come.
                if (log is null && pod?.Status?.Phase is "Running" or "Succeeded" or "Failed")
                    log = StreamLogAsync(pod.Metadata.Name, logPath, logLines.Read, watching.Token);
                if (finished) break;
            }
        }
        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
        {
            killed = true;
        }

        if (killed || failure is { Abandon: true } || failure?.Error.Contains("lost the Kubernetes API", StringComparison.Ordinal) == true)
            RemoveInBackground(name);
        else
        {
            // A Job that ended by itself (done, failed, out of memory, evicted) stays for its time to live; its pod's
            // end and its log to the end say why it failed, and a Job done before its pod was seen running has its
            // log read whole now.
            pod = await NewestPodAsync(name).ConfigureAwait(false) ?? pod;
            if (log is null && pod is not null)
                log = StreamLogAsync(pod.Metadata.Name, logPath, logLines.Read, watching.Token);
            if (log is not null) await LocalExecutor.Finishes(log, LogGrace).ConfigureAwait(false);
            if (failure?.JobFailed is { } failed) failure = JobFailure(step, failed, pod, logPath);
        }
        await watching.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(jobWatch, podWatch, metricsReader, log ?? Task.CompletedTask).ConfigureAwait(false);
        metricsFile.Finish();
        if (killed) failure = new Failure($"step '{step.StepName}' was killed");
        lock (metrics) return new StepResult(metrics, failure?.Error, clock.Elapsed, failure?.Infrastructure ?? false);
    }

    /// <summary>
    /// Feeds one resource's states into <paramref name="seen"/> until cancelled: it lists (an empty list of the Job
    /// means it is gone: <paramref name="absent"/>), then watches from the list's version, and lists again whenever
    /// the server ends the watch (they time out) or says its version is too old (410 Gone). The events are states,
    /// not changes, so one seen twice does no harm. An API that fails is tried again, backing off, for
    /// <see cref="WatchGiveUp"/> before the step is failed.
    /// </summary>
    private static async Task WatchAsync<T>(
        Func<CancellationToken, Task<(IList<T> Items, string? Version)>> list,
        Func<string?, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        Func<WatchEventType, T, Seen> toSeen, Func<Seen>? absent, ChannelWriter<Seen> seen, CancellationToken cancel)
    {
        DateTime? failingSince = null;
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!cancel.IsCancellationRequested)
        {
            using var broken = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var watched = Stopwatch.StartNew();
            try
            {
                var (items, version) = await list(cancel).ConfigureAwait(false);
                failingSince = null;
                foreach (var item in items) seen.TryWrite(toSeen(WatchEventType.Added, item));
                if (items.Count == 0 && absent is not null) seen.TryWrite(absent());
                // An ERROR event (a version too old) is handed to onError while the stream goes on: end it and list again.
                await foreach (var (type, item) in watch(version, _ => broken.Cancel(), broken.Token).ConfigureAwait(false))
                    if (type is WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted)
                        seen.TryWrite(toSeen(type, item));
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (broken.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                // Whatever the client throws (unreachable, a request timeout, a credential plugin failing): try again.
                failingSince ??= DateTime.UtcNow;
                if (DateTime.UtcNow - failingSince > WatchGiveUp)
                {
                    seen.TryWrite(new WatchLost(e.Message));
                    return;
                }
                if (!await DelayAsync(backoff, cancel).ConfigureAwait(false)) return;
                backoff = backoff * 2 > LongestBackoff ? LongestBackoff : backoff * 2;
                continue;
            }
            // A watch the server ends at once, again and again, is not followed in a tight loop.
            if (watched.Elapsed < TimeSpan.FromSeconds(1) && !await DelayAsync(TimeSpan.FromMilliseconds(250), cancel).ConfigureAwait(false)) return;
        }
    }

    /// <summary>Waits, or returns false once cancelled.</summary>
    private static async Task<bool> DelayAsync(TimeSpan wait, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(wait, cancel).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task RecheckAfterAsync(TimeSpan wait, ChannelWriter<Seen> seen, CancellationToken cancel)
    {
        if (await DelayAsync(wait, cancel).ConfigureAwait(false)) seen.TryWrite(new Recheck());
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

    /// <summary>
    /// Follows the step container's log to its end into <paramref name="logPath"/>, line by line (each at most
    /// <see cref="BoundedLines.MaxLength"/>, the file at most <see cref="LocalExecutor.LogLimit"/>, as for local
    /// steps). A stream cut while the container runs (an idle timeout, an API server restart) is opened again, and
    /// the lines already read are skipped.
    /// </summary>
    private async Task StreamLogAsync(string podName, string logPath, Action<string> onLine, CancellationToken cancel)
    {
        await using var log = new StreamWriter(new FileStream(logPath, PrivateFiles.Options(FileMode.Create, FileAccess.Write, FileShare.Read)));
        var delivered = 0;
        var written = 0L;
        var buffer = new char[8192];
        while (!cancel.IsCancellationRequested)
        {
            var index = 0;
            var lines = new BoundedLines(line =>
            {
                if (index++ < delivered) return;
                delivered++;
                if (written <= LocalExecutor.LogLimit)
                {
                    written += System.Text.Encoding.UTF8.GetByteCount(line) + 1;
                    log.WriteLine(written <= LocalExecutor.LogLimit ? line : LocalExecutor.TruncationNote(LocalExecutor.LogLimit));
                }
                onLine(line);
            });
            try
            {
                await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(podName, Settings.Namespace, container: StepJob.ContainerName,
                    follow: true, cancellationToken: cancel).ConfigureAwait(false);
                using var reader = new StreamReader(stream);
                int read;
                while ((read = await reader.ReadAsync(buffer.AsMemory(), cancel).ConfigureAwait(false)) > 0) lines.Feed(buffer.AsSpan(0, read));
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or OperationCanceledException)
            {
            }
            if (await ContainerEndedAsync(podName).ConfigureAwait(false))
            {
                lines.Finish();
                return;
            }
            if (!await DelayAsync(TimeSpan.FromMilliseconds(500), cancel).ConfigureAwait(false)) return;
        }
    }

    /// <summary>Whether the step's container is done (or its pod gone): a log stream that ends then has all of it.</summary>
    private async Task<bool> ContainerEndedAsync(string podName)
    {
        try
        {
            var pod = await client.CoreV1.ReadNamespacedPodAsync(podName, Settings.Namespace).ConfigureAwait(false);
            return pod.Status?.Phase is "Succeeded" or "Failed"
                || pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == StepJob.ContainerName)?.State?.Terminated is not null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<V1Pod?> NewestPodAsync(string name)
    {
        try
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync(Settings.Namespace, labelSelector: $"{StepJob.JobLabel}={name}").ConfigureAwait(false);
            return pods.Items.OrderBy(pod => pod.Metadata.CreationTimestamp).LastOrDefault();
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes a Job the tuner gives up on, trying again in the background (backing off, for minutes) while the API
    /// cannot be reached: a Job left behind would hold its GPU. activeDeadlineSeconds ends it if all tries fail.
    /// </summary>
    private void RemoveInBackground(string name) => _background.Run($"deleting Job {name}", async () =>
    {
        try
        {
            await DeleteRetrying.ExecuteAsync(async _ => await RemoveAsync(name, waitUntilGone: false, CancellationToken.None, quiet: false).ConfigureAwait(false))
                .ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            // Ten tries over about three minutes: the Job's activeDeadlineSeconds ends it where the API stays away.
        }
    });

    /// <summary>A Job's delete in the background: ten tries, the waits doubling from 1 s up to <see cref="LongestBackoff"/>.</summary>
    private static readonly Polly.ResiliencePipeline DeleteRetrying = Retrying.Backoff((e, _) => IsUnreachable(e), TimeSpan.FromSeconds(1), LongestBackoff, tries: 10);

    private static bool IsUnreachable(Exception e) => e is HttpOperationException or HttpRequestException or OperationCanceledException or KubernetesException;

    /// <summary>
    /// Deletes the Job and, by foreground propagation, its pods first. With <paramref name="waitUntilGone"/>, returns
    /// once the API no longer lists it (false if that took longer than <see cref="DeletionWait"/>). Unless
    /// <paramref name="quiet"/> is false, a failure to reach the API is thrown only when waiting.
    /// </summary>
    private async Task<bool> RemoveAsync(string name, bool waitUntilGone, CancellationToken cancel, bool quiet = true)
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
        catch (Exception e) when (quiet && !waitUntilGone && e is HttpOperationException or HttpRequestException or OperationCanceledException)
        {
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
                    resourceVersion: listed.Metadata?.ResourceVersion, onError: _ => { }, cancellationToken: bounded.Token);
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
    private static Failure? PodFailure(StepInvocation step, V1Pod pod)
    {
        if (pod.Status?.Reason == "Evicted")
            return new Failure($"step '{step.StepName}': its pod was Evicted: {pod.Status.Message}", Infrastructure: true);
        // Kubernetes marks a pod it ends for reasons of its own (its node lost or drained, preemption) before it goes.
        if (pod.Status?.Conditions?.FirstOrDefault(condition => condition is { Type: "DisruptionTarget", Status: "True" }) is { } disrupted)
            return new Failure($"step '{step.StepName}': its pod was ended by the cluster ({disrupted.Reason}): {disrupted.Message}", Infrastructure: true);
        foreach (var container in pod.Status?.ContainerStatuses ?? [])
        {
            if (container.State?.Waiting is { Reason: "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName" or "ErrImageNeverPull" } waiting)
                return new Failure($"step '{step.StepName}': image '{step.Image}' could not be pulled ({waiting.Reason}): {waiting.Message}", Abandon: true);
            if (container.State?.Waiting is { Reason: "CreateContainerConfigError" or "CreateContainerError" } config)
                return new Failure($"step '{step.StepName}': its container could not be created ({config.Reason}): {config.Message}", Abandon: true);
            if (container.State?.Terminated is { Reason: "OOMKilled" })
                return new Failure(OutOfMemory(step));
        }
        return null;
    }

    private static string OutOfMemory(StepInvocation step) =>
        $"step '{step.StepName}' ran out of memory (OOMKilled){(step.Resources.Memory is { } limit ? $" with its limit of {limit}" : "")}";

    private static string? Unschedulable(V1Pod pod) =>
        pod.Status?.Conditions?.FirstOrDefault(condition => condition is { Type: "PodScheduled", Status: "False", Reason: "Unschedulable" })?.Message
            is { } message ? message : null;

    /// <summary>Why a Job the cluster marked Failed failed: its deadline, else what its pod's container did.</summary>
    private static Failure JobFailure(StepInvocation step, V1JobCondition failed, V1Pod? pod, string logPath)
    {
        if (failed.Reason == "DeadlineExceeded")
            return new Failure($"step '{step.StepName}' ran past the trial's time and the cluster ended it (DeadlineExceeded): {failed.Message}");
        if (pod is not null && PodFailure(step, pod) is { } podFailure) return podFailure;
        var terminated = pod?.Status?.ContainerStatuses?.FirstOrDefault(container => container.Name == StepJob.ContainerName)?.State?.Terminated;
        if (terminated is { ExitCode: not 0 })
            return new Failure($"step '{step.StepName}' exited with code {terminated.ExitCode}{(LocalExecutor.LastLine(logPath) is { } last ? ": " + last : "")}");
        return new Failure($"step '{step.StepName}': Job failed ({failed.Reason}): {failed.Message}");
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
