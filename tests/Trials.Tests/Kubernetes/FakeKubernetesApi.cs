using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tuning.Trials.Tests.Kubernetes;

/// <summary>
/// An in-process stand-in for the Kubernetes API server, on a loopback port, for the calls the Kubernetes executor
/// makes: create, get, list, watch and delete Jobs; list and watch pods; follow a pod's log. It speaks the real JSON
/// shapes (the client library's own models, serialised as the library does, watch events as newline-separated
/// <c>{"type","object"}</c> lines, errors as <c>Status</c> objects). Creating a Job creates its pod; what the pod
/// then does (runs, logs, exits, cannot pull its image, is evicted) is the test's <see cref="Kubelet"/>.
/// </summary>
public sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, V1Job> _jobs = [];
    private readonly Dictionary<string, FakePod> _pods = [];
    private readonly List<Watch> _watches = [];

    /// <summary>Every change, by version, for watches that start from a version a list gave them.</summary>
    private readonly List<(long Version, string Resource, V1ObjectMeta Meta, string Line)> _history = [];
    private long _version = 1;

    /// <summary>
    /// What each Job's pod does once created; by default it runs, says <c>objective=1</c> and succeeds. Null: no pod
    /// is made at all (a quota or an admission policy refused it).
    /// </summary>
    public Func<FakePod, Task>? Kubelet { get; set; } = async pod =>
    {
        pod.Run();
        pod.Log("objective=1");
        pod.Exit(0);
        await Task.CompletedTask;
    };

    /// <summary>Every Job created, as the API received it.</summary>
    public List<V1Job> Created { get; } = [];

    /// <summary>Every Job deletion: its name and propagation policy.</summary>
    public List<(string Name, string? Propagation)> Deletions { get; } = [];

    /// <summary>How many watch requests were made, by resource ("jobs", "pods").</summary>
    public Dictionary<string, int> WatchRequests { get; } = new() { ["jobs"] = 0, ["pods"] = 0 };

    /// <summary>Whether a Job's deletion leaves it listed until <see cref="FinishDeletion"/> (a finalizer still running).</summary>
    public bool SlowDeletion { get; set; }

    /// <summary>Whether the next watch started from a version is told, once, that the version is too old (410 Gone).</summary>
    public bool ExpireWatches { get; set; }

    /// <summary>After how many lines a log stream is cut while its container still runs (an idle timeout); null: never.</summary>
    public int? DropLogAfter { get; set; }

    /// <summary>How many log streams were opened.</summary>
    public int LogRequests;

    public string Url { get; }

    /// <summary>The one namespace this cluster has.</summary>
    public const string Namespace = "tuning";

    private FakeKubernetesApi(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeKubernetesApi? api = null;
        // A fault of the fake itself reaches the test as the API's message, not as a bare 500.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                await WriteStatus(context, 500, "InternalError", "the fake API server failed: " + e);
            }
        });
        app.MapPost("/apis/batch/v1/namespaces/{ns}/jobs", (string ns, HttpContext context) => api!.CreateJobAsync(ns, context));
        app.MapGet("/apis/batch/v1/namespaces/{ns}/jobs", (string ns, HttpContext context) => api!.ListAsync("jobs", ns, context));
        app.MapGet("/apis/batch/v1/namespaces/{ns}/jobs/{name}", (string ns, string name, HttpContext context) => api!.ReadJobAsync(ns, name, context));
        app.MapDelete("/apis/batch/v1/namespaces/{ns}/jobs/{name}", (string ns, string name, HttpContext context) => api!.DeleteJobAsync(ns, name, context));
        app.MapGet("/api/v1/namespaces/{ns}/pods", (string ns, HttpContext context) => api!.ListAsync("pods", ns, context));
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}/log", (string ns, string name, HttpContext context) => api!.FollowLogAsync(name, context));
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}", (string ns, string name, HttpContext context) => api!.ReadPodAsync(name, context));
        MapDiscovery(app);
        await app.StartAsync();
        api = new FakeKubernetesApi(app, app.Urls.First());
        return api;
    }

    /// <summary>
    /// Enough of API discovery for <c>kubectl apply --dry-run=client</c> to map the kinds of deploy/kubernetes/ to
    /// resources; any other object it asks for is not found (so each would be created).
    /// </summary>
    private static void MapDiscovery(WebApplication app)
    {
        static object Resource(string name, string kind, bool namespaced) =>
            new { name, singularName = "", namespaced, kind, verbs = new[] { "create", "delete", "get", "list", "patch", "update", "watch" } };
        var groups = new Dictionary<string, object[]>
        {
            ["v1"] = [Resource("namespaces", "Namespace", false), Resource("configmaps", "ConfigMap", true), Resource("persistentvolumeclaims", "PersistentVolumeClaim", true),
                Resource("serviceaccounts", "ServiceAccount", true), Resource("services", "Service", true), Resource("pods", "Pod", true)],
            ["apps/v1"] = [Resource("statefulsets", "StatefulSet", true), Resource("deployments", "Deployment", true)],
            ["batch/v1"] = [Resource("jobs", "Job", true)],
            ["rbac.authorization.k8s.io/v1"] = [Resource("roles", "Role", true), Resource("rolebindings", "RoleBinding", true)],
        };
        IResult Json(object value) => Results.Json(value);
        app.MapGet("/api", () => Json(new { kind = "APIVersions", versions = new[] { "v1" }, serverAddressByClientCIDRs = Array.Empty<object>() }));
        app.MapGet("/api/v1", () => Json(new { kind = "APIResourceList", groupVersion = "v1", resources = groups["v1"] }));
        app.MapGet("/apis", () => Json(new
        {
            kind = "APIGroupList",
            apiVersion = "v1",
            groups = groups.Keys.Where(key => key.Contains('/')).Select(key => key.Split('/')).Select(parts => new
            {
                name = parts[0],
                versions = new[] { new { groupVersion = $"{parts[0]}/{parts[1]}", version = parts[1] } },
                preferredVersion = new { groupVersion = $"{parts[0]}/{parts[1]}", version = parts[1] },
            }),
        }));
        app.MapGet("/apis/{group}/{version}", (string group, string version) =>
            groups.TryGetValue($"{group}/{version}", out var resources)
                ? Json(new { kind = "APIResourceList", apiVersion = "v1", groupVersion = $"{group}/{version}", resources })
                : Results.NotFound());
        app.MapFallback(context => WriteStatus(context, 404, "NotFound", $"the server could not find the requested resource ({context.Request.Path})"));
    }

    /// <summary>A client of the real library, pointed at this server.</summary>
    public IKubernetes Client() => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Url });

    public V1Job? Job(string name)
    {
        lock (_gate) return _jobs.GetValueOrDefault(name);
    }

    public IReadOnlyList<string> JobNames()
    {
        lock (_gate) return _jobs.Keys.ToList();
    }

    /// <summary>Puts a Job in place as an earlier tuner would have left it, its pod running.</summary>
    public void Leave(V1Job job)
    {
        lock (_gate)
        {
            Stamp(job.Metadata);
            job.Status = new V1JobStatus { Active = 1 };
            _jobs[job.Metadata.Name] = job;
            var pod = NewPod(job);
            pod.Pod.Status.Phase = "Running";
            _pods[pod.Name] = pod;
        }
    }

    /// <summary>Ends every watch now, as an API server does when its watches time out or it restarts.</summary>
    public void CloseWatches()
    {
        lock (_gate)
            foreach (var watch in _watches) watch.Events.Writer.TryComplete();
    }

    /// <summary>Removes a Job and its pods without telling any watch: what a watcher that was reconnecting misses.</summary>
    public void RemoveSilently(string name)
    {
        lock (_gate)
        {
            _jobs.Remove(name);
            foreach (var pod in _pods.Values.Where(p => p.JobName == name).ToList()) _pods.Remove(pod.Name);
        }
    }

    /// <summary>Ends a deletion held back by <see cref="SlowDeletion"/>.</summary>
    public void FinishDeletion(string name)
    {
        lock (_gate) Remove(name);
    }

    private async Task CreateJobAsync(string ns, HttpContext context)
    {
        var job = KubernetesJson.Deserialize<V1Job>(await new StreamReader(context.Request.Body).ReadToEndAsync());
        if (ns != Namespace)
        {
            await WriteStatus(context, 404, "NotFound", $"namespaces \"{ns}\" not found");
            return;
        }
        FakePod? pod = null;
        var exists = false;
        lock (_gate)
        {
            exists = _jobs.ContainsKey(job.Metadata.Name);
            if (!exists) pod = Add(ns, job);
        }
        if (exists)
        {
            await WriteStatus(context, 409, "AlreadyExists", $"jobs.batch \"{job.Metadata.Name}\" already exists");
            return;
        }
        context.Response.StatusCode = 201;
        await WriteJson(context, job);
        if (pod is not null && Kubelet is { } kubelet) _ = Task.Run(() => kubelet(pod));
    }

    /// <summary>Stores a new Job and its pod (none without a <see cref="Kubelet"/>), and tells the watches. Called under the lock.</summary>
    private FakePod? Add(string ns, V1Job job)
    {
        {
            Created.Add(KubernetesJson.Deserialize<V1Job>(KubernetesJson.Serialize(job)));
            job.Metadata.NamespaceProperty = ns;
            Stamp(job.Metadata);
            job.Status = new V1JobStatus { Active = 1 };
            _jobs[job.Metadata.Name] = job;
            Publish("jobs", "ADDED", job, job.Metadata);
            if (Kubelet is null) return null;
            var pod = NewPod(job);
            _pods[pod.Name] = pod;
            Publish("pods", "ADDED", pod.Pod, pod.Pod.Metadata);
            return pod;
        }
    }

    private FakePod NewPod(V1Job job)
    {
        var template = job.Spec.Template;
        var meta = new V1ObjectMeta
        {
            Name = $"{job.Metadata.Name}-{Guid.NewGuid().ToString("N")[..5]}",
            NamespaceProperty = job.Metadata.NamespaceProperty,
            Labels = template.Metadata?.Labels ?? new Dictionary<string, string>(),
        };
        Stamp(meta);
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = meta,
            Spec = template.Spec,
            Status = new V1PodStatus { Phase = "Pending" },
        };
        return new FakePod(this, job.Metadata.Name, pod);
    }

    private async Task ReadJobAsync(string ns, string name, HttpContext context)
    {
        var job = Job(name);
        if (job is null) await WriteStatus(context, 404, "NotFound", $"jobs.batch \"{name}\" not found");
        else await WriteJson(context, job);
    }

    private async Task DeleteJobAsync(string ns, string name, HttpContext context)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var options = body.Length > 0 ? KubernetesJson.Deserialize<V1DeleteOptions>(body) : null;
        V1Job? job;
        lock (_gate)
        {
            job = _jobs.GetValueOrDefault(name);
            if (job is not null)
            {
                Deletions.Add((name, options?.PropagationPolicy ?? context.Request.Query["propagationPolicy"].FirstOrDefault()));
                // Foreground: the pods go first, then the Job; until then it is listed with its deletion stamp.
                job.Metadata.DeletionTimestamp = DateTime.UtcNow;
                foreach (var pod in _pods.Values.Where(p => p.JobName == name).ToList()) pod.Delete();
                if (!SlowDeletion) Remove(name);
            }
        }
        if (job is null) await WriteStatus(context, 404, "NotFound", $"jobs.batch \"{name}\" not found");
        else await WriteStatus(context, 200, null, null);
    }

    /// <summary>Removes a Job and tells its watchers. Called under the lock.</summary>
    private void Remove(string name)
    {
        if (!_jobs.Remove(name, out var job)) return;
        job.Metadata.ResourceVersion = (++_version).ToString();
        Publish("jobs", "DELETED", job, job.Metadata);
    }

    private async Task ListAsync(string resource, string ns, HttpContext context)
    {
        var query = context.Request.Query;
        var fieldName = query["fieldSelector"].FirstOrDefault() is { } field && field.StartsWith("metadata.name=", StringComparison.Ordinal) ? field["metadata.name=".Length..] : null;
        var labels = (query["labelSelector"].FirstOrDefault() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        bool Matches(V1ObjectMeta meta) =>
            (fieldName is null || meta.Name == fieldName)
            && labels.All(label => meta.Labels?.TryGetValue(label.Key, out var value) == true && value == label.Value);

        if (query["watch"].FirstOrDefault() is "true" or "1")
        {
            var watch = new Watch(resource, Matches);
            var since = query["resourceVersion"].FirstOrDefault() is { Length: > 0 } given ? long.Parse(given) : (long?)null;
            lock (_gate)
            {
                WatchRequests[resource]++;
                _watches.Add(watch);
                if (since is not null && ExpireWatches)
                {
                    // As a real server says it: an ERROR event carrying a Status, then the end of the stream.
                    ExpireWatches = false;
                    watch.Events.Writer.TryWrite($"{{\"type\":\"ERROR\",\"object\":{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"too old resource version: {since}\",\"reason\":\"Expired\",\"code\":410}}}}");
                    watch.Events.Writer.TryComplete();
                }
                // Without a version a watch starts with the present state, as ADDED events; from a version, with
                // every change after it.
                else if (since is null)
                    foreach (var (item, meta) in Present(resource).Where(entry => Matches(entry.Meta)))
                        watch.Events.Writer.TryWrite(Event("ADDED", item));
                else
                    foreach (var change in _history.Where(h => h.Version > since && h.Resource == resource && Matches(h.Meta)))
                        watch.Events.Writer.TryWrite(change.Line);
            }
            context.Response.ContentType = "application/json";
            try
            {
                await context.Response.StartAsync(context.RequestAborted);
                await foreach (var line in watch.Events.Reader.ReadAllAsync(context.RequestAborted))
                {
                    await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                lock (_gate) _watches.Remove(watch);
            }
            return;
        }

        string version;
        List<object> items;
        lock (_gate)
        {
            version = _version.ToString();
            items = Present(resource).Where(entry => Matches(entry.Meta)).Select(entry => entry.Item).ToList();
        }
        var metadata = new V1ListMeta { ResourceVersion = version };
        object list = resource == "jobs"
            ? new V1JobList { ApiVersion = "batch/v1", Kind = "JobList", Metadata = metadata, Items = items.Cast<V1Job>().ToList() }
            : new V1PodList { ApiVersion = "v1", Kind = "PodList", Metadata = metadata, Items = items.Cast<V1Pod>().ToList() };
        await WriteJson(context, list);
    }

    private IEnumerable<(object Item, V1ObjectMeta Meta)> Present(string resource) => resource == "jobs"
        ? _jobs.Values.Select(job => ((object)job, job.Metadata))
        : _pods.Values.Where(pod => !pod.Deleted).Select(pod => ((object)pod.Pod, pod.Pod.Metadata));

    private async Task ReadPodAsync(string name, HttpContext context)
    {
        FakePod? pod;
        lock (_gate) pod = _pods.GetValueOrDefault(name);
        if (pod is null) await WriteStatus(context, 404, "NotFound", $"pods \"{name}\" not found");
        else await WriteJson(context, pod.Pod);
    }

    private async Task FollowLogAsync(string name, HttpContext context)
    {
        Interlocked.Increment(ref LogRequests);
        FakePod? pod;
        lock (_gate) pod = _pods.GetValueOrDefault(name);
        if (pod is null)
        {
            await WriteStatus(context, 404, "NotFound", $"pods \"{name}\" not found");
            return;
        }
        if (pod.Pod.Status.Phase == "Pending")
        {
            await WriteStatus(context, 400, "BadRequest", $"container \"step\" in pod \"{name}\" is waiting to start: ContainerCreating");
            return;
        }
        context.Response.ContentType = "text/plain";
        await context.Response.StartAsync(context.RequestAborted);
        try
        {
            var sent = 0;
            await foreach (var line in pod.Lines(context.RequestAborted))
            {
                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                if (++sent == DropLogAfter && pod.Pod.Status.Phase == "Running") return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Gives the object a new resource version and tells the watches that match it. Called under the lock.</summary>
    internal void Publish(string resource, string type, object item, V1ObjectMeta meta)
    {
        meta.ResourceVersion = (++_version).ToString();
        var line = Event(type, item);
        _history.Add((_version, resource, meta, line));
        foreach (var watch in _watches.Where(w => w.Resource == resource && w.Matches(meta)))
            watch.Events.Writer.TryWrite(line);
    }

    internal void Changed(FakePod pod, V1JobStatus? jobStatus = null)
    {
        lock (_gate)
        {
            if (!pod.Deleted) Publish("pods", "MODIFIED", pod.Pod, pod.Pod.Metadata);
            if (jobStatus is not null && _jobs.GetValueOrDefault(pod.JobName) is { } job)
            {
                job.Status = jobStatus;
                Publish("jobs", "MODIFIED", job, job.Metadata);
            }
        }
    }

    internal void Deleted(FakePod pod)
    {
        _pods.Remove(pod.Name);
        Publish("pods", "DELETED", pod.Pod, pod.Pod.Metadata);
    }

    private void Stamp(V1ObjectMeta meta)
    {
        meta.Uid ??= Guid.NewGuid().ToString();
        meta.CreationTimestamp ??= DateTime.UtcNow;
        meta.ResourceVersion = (++_version).ToString();
    }

    private static string Event(string type, object item) => $"{{\"type\":\"{type}\",\"object\":{KubernetesJson.Serialize(item)}}}";

    private static async Task WriteJson(HttpContext context, object value)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(KubernetesJson.Serialize(value));
    }

    /// <summary>A <c>Status</c> object, written by hand: the library's model reads Status but cannot write it.</summary>
    private static async Task WriteStatus(HttpContext context, int code, string? reason, string? message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new
        {
            apiVersion = "v1",
            kind = "Status",
            status = code < 300 ? "Success" : "Failure",
            reason,
            message,
            code,
        }));
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
            foreach (var watch in _watches) watch.Events.Writer.TryComplete();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record Watch(string Resource, Func<V1ObjectMeta, bool> Matches)
    {
        public Channel<string> Events { get; } = Channel.CreateUnbounded<string>();
    }
}

/// <summary>A Job's pod in the fake API server: the test moves it through what a kubelet would report.</summary>
public sealed class FakePod(FakeKubernetesApi api, string jobName, V1Pod pod)
{
    private readonly List<string> _log = [];
    private readonly TaskCompletionSource _logEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _logGrew = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string JobName { get; } = jobName;

    public V1Pod Pod { get; } = pod;

    public string Name => Pod.Metadata.Name;

    public bool Deleted { get; private set; }

    /// <summary>Completed when the pod is deleted (its Job deleted with it).</summary>
    public TaskCompletionSource Gone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private V1Container Container => Pod.Spec.Containers[0];

    /// <summary>The step container's environment as the Job gave it.</summary>
    public string? Variable(string name) => Container.Env?.FirstOrDefault(variable => variable.Name == name)?.Value;

    public void Run()
    {
        Pod.Status.Phase = "Running";
        Pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = Container.Name, Image = Container.Image, State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = DateTime.UtcNow } } }];
        api.Changed(this);
    }

    public void Log(string line)
    {
        lock (_log)
        {
            _log.Add(line);
            _logGrew.TrySetResult();
            _logGrew = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>The container ends with <paramref name="code"/>; the Job completes or fails (backoffLimit 0: no second pod).</summary>
    public void Exit(int code, string? reason = null)
    {
        _logEnded.TrySetResult();
        Pod.Status.Phase = code == 0 ? "Succeeded" : "Failed";
        Pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = Container.Name, Image = Container.Image, State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = code, Reason = reason ?? (code == 0 ? "Completed" : "Error") } } }];
        api.Changed(this, code == 0
            ? new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] }
            : new V1JobStatus { Failed = 1, Conditions = [new V1JobCondition { Type = "Failed", Status = "True", Reason = "BackoffLimitExceeded", Message = "Job has reached the specified backoff limit" }] });
    }

    /// <summary>The container cannot start: ImagePullBackOff, ErrImagePull. The Job stays active, as in a cluster.</summary>
    public void Waiting(string reason, string message)
    {
        Pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = Container.Name, Image = Container.Image, State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } } }];
        api.Changed(this);
    }

    public void Unschedulable(string message)
    {
        Pod.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = message }];
        api.Changed(this);
    }

    public void Evict(string message)
    {
        _logEnded.TrySetResult();
        Pod.Status.Phase = "Failed";
        Pod.Status.Reason = "Evicted";
        Pod.Status.Message = message;
        api.Changed(this, new V1JobStatus { Failed = 1, Conditions = [new V1JobCondition { Type = "Failed", Status = "True", Reason = "BackoffLimitExceeded", Message = "Job has reached the specified backoff limit" }] });
    }

    /// <summary>The Job ran past activeDeadlineSeconds: the controller ends its pod and marks the Job failed.</summary>
    public void DeadlineExceeded()
    {
        _logEnded.TrySetResult();
        api.Changed(this, new V1JobStatus { Failed = 1, Conditions = [new V1JobCondition { Type = "Failed", Status = "True", Reason = "DeadlineExceeded", Message = "Job was active longer than specified deadline" }] });
    }

    /// <summary>Called by the API under its lock when the pod's Job is deleted.</summary>
    internal void Delete()
    {
        Deleted = true;
        _logEnded.TrySetResult();
        api.Deleted(this);
        Gone.TrySetResult();
    }

    /// <summary>The log as <c>follow=true</c> streams it: what was written, then each new line, until the container ends.</summary>
    public async IAsyncEnumerable<string> Lines([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var sent = 0;
        while (true)
        {
            Task grew;
            string[] fresh;
            lock (_log)
            {
                fresh = _log.Skip(sent).ToArray();
                grew = _logGrew.Task;
            }
            foreach (var line in fresh) yield return line;
            sent += fresh.Length;
            if (fresh.Length > 0) continue;
            if (_logEnded.Task.IsCompleted)
            {
                lock (_log)
                    if (_log.Count == sent) yield break;
                continue;
            }
            await Task.WhenAny(grew, _logEnded.Task).WaitAsync(cancellation);
        }
    }
}
