using k8s.Models;
using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;
using Tuning.Trials.Execution.Kubernetes;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests.Kubernetes;

/// <summary>
/// The Kubernetes executor against <see cref="FakeKubernetesApi"/>: no cluster runs here, so what a kubelet and the
/// Job controller would report is played by each test. The client library, its HTTP, JSON and watch handling are real.
/// </summary>
public sealed class KubernetesExecutorTests() : InTemporaryFolder("tuning-kubernetes-"), IAsyncLifetime
{
    private FakeKubernetesApi _api = null!;

    public async Task InitializeAsync() => _api = await FakeKubernetesApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private string Study => Directory.CreateDirectory(Path.Combine(Root, "studies", "mnist")).FullName;

    private string Runs => Path.Combine(Root, "data", "runs");

    private KubernetesSettings Settings(TimeSpan? unschedulableGrace = null) => new(
        FakeKubernetesApi.Namespace, "tuning-data", Root, ["registry-login"],
        new Dictionary<string, string> { ["nvidia.com/gpu.present"] = "true" },
        [new V1Toleration { Key = "nvidia.com/gpu", OperatorProperty = "Exists", Effect = "NoSchedule" }],
        TimeSpan.FromMinutes(10), unschedulableGrace ?? TimeSpan.FromMinutes(5));

    private KubernetesExecutor Executor(TimeSpan? unschedulableGrace = null) => new(_api.Client(), Settings(unschedulableGrace));

    private StepInvocation Step(string name = "train", string trialId = "0123456789abcdef0123456789abcdef-7", Action<MetricReport>? reported = null)
    {
        var trial = Path.Combine(Runs, "study", "7");
        return new StepInvocation(trialId, name, ["python3", "/study/train.py", "--lr", "0.1"], Path.Combine(trial, name), Path.Combine(trial, name, "outputs"),
            Study, new Dictionary<string, string> { ["SEED"] = "4" }, "registry.example/train:1", new ResourceSpec(0, 2, "1Gi"), reported, trial);
    }

    private static async Task<StepResult> Run(KubernetesExecutor executor, StepInvocation step, CancellationToken cancellation = default, TimeSpan? limit = null)
    {
        using var deadline = new TrialDeadline(limit, cancellation);
        return await executor.RunAsync(step, deadline).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_pipeline_becomes_one_Job_per_step_with_the_claim_mounted_by_subpath_and_the_trials_limits()
    {
        File.WriteAllText(Path.Combine(Study, "train.py"), "print(\"objective=1\")\n");
        var spec = StudyFile.Parse("""
            name: k8s
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 10, trialTimeout: 10m}
            parameters:
              - {name: lr, type: double, min: 0.001, max: 1}
            trial:
              executor: kubernetes
              steps:
                - name: prepare
                  image: registry.example/prep:1
                  command: [sh, -c, "echo data > ${outputs}/rows"]
                - name: train
                  image: registry.example/train:1
                  dependsOn: [prepare]
                  command: [python3, ./train.py, "${steps.prepare.outputs}/rows", "${params.lr}", "${trial.dir}"]
                  env: {EPOCHS: "3"}
                  resources: {gpu: 0.5, cpu: 2, memory: 1Gi}
            """, Study);
        var result = await new PipelineRunner(spec, Executor()).RunAsync(
            new TrialRun("0123456789abcdef0123456789abcdef-7", 7, new Dictionary<string, ParameterValue> { ["lr"] = ParameterValue.Of(0.25) }, Path.Combine(Runs, "s", "7")),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Outcome == TrialOutcome.Succeeded, result.Error);
        Assert.Equal(1, result.Metrics.Final["objective"]);
        Assert.Equal(2, _api.Created.Count);
        var prepare = _api.Created[0];
        var train = _api.Created[1];
        Assert.Equal(StepJob.Name("0123456789abcdef0123456789abcdef-7", "train"), train.Metadata.Name);
        Assert.True(train.Metadata.Name.Length <= 63);
        Assert.Equal("tuning", train.Metadata.Labels[StepJob.ManagedByLabel]);
        Assert.Equal("0123456789abcdef0123456789abcdef-7", train.Metadata.Labels[StepJob.TrialLabel]);
        Assert.Equal("train", train.Metadata.Annotations[StepJob.StepAnnotation]);
        Assert.Equal(Path.Combine(Runs, "s", "7", "train"), train.Metadata.Annotations[StepJob.StepFolderAnnotation]);

        var spec1 = train.Spec;
        Assert.Equal(0, spec1.BackoffLimit);
        Assert.InRange(spec1.ActiveDeadlineSeconds!.Value, 590, 600);
        Assert.Equal(600, spec1.TtlSecondsAfterFinished);
        var pod = spec1.Template.Spec;
        Assert.Equal("Never", pod.RestartPolicy);
        Assert.Equal("tuning-data", Assert.Single(pod.Volumes).PersistentVolumeClaim.ClaimName);
        Assert.Equal("registry-login", Assert.Single(pod.ImagePullSecrets).Name);
        Assert.Equal("true", pod.NodeSelector["nvidia.com/gpu.present"]);
        Assert.Equal("nvidia.com/gpu", Assert.Single(pod.Tolerations).Key);
        Assert.Equal(train.Metadata.Name, spec1.Template.Metadata.Labels[StepJob.JobLabel]);

        var container = Assert.Single(pod.Containers);
        Assert.Equal("registry.example/train:1", container.Image);
        Assert.Equal(["python3", "/study/train.py", "/inputs/prepare/rows", "0.25", "/trial"], container.Args);
        Assert.Null(container.Command);
        Assert.Equal("/step", container.WorkingDir);
        var env = container.Env.ToDictionary(variable => variable.Name, variable => variable.Value);
        Assert.Equal("3", env["EPOCHS"]);
        Assert.Equal("/step/metrics.jsonl", env[LocalExecutor.MetricsFileVariable]);
        Assert.Equal("/outputs", env["TUNER_OUTPUTS"]);
        Assert.Equal("1", container.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal("2", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("1Gi", container.Resources.Limits["memory"].ToString());

        var mounts = container.VolumeMounts.ToDictionary(mount => mount.MountPath);
        Assert.Equal("studies/mnist", mounts["/study"].SubPath);
        Assert.True(mounts["/study"].ReadOnlyProperty);
        Assert.Equal("data/runs/s/7/train/outputs", mounts["/outputs"].SubPath);
        Assert.False(mounts["/outputs"].ReadOnlyProperty);
        Assert.Equal("data/runs/s/7/train", mounts["/step"].SubPath);
        Assert.Equal("data/runs/s/7", mounts["/trial"].SubPath);
        Assert.Equal("data/runs/s/7/prepare/outputs", mounts["/inputs/prepare"].SubPath);
        Assert.True(mounts["/inputs/prepare"].ReadOnlyProperty);

        // A step that asks for no GPU is not held to GPU nodes.
        Assert.Null(prepare.Spec.Template.Spec.NodeSelector);
        Assert.Null(prepare.Spec.Template.Spec.Tolerations);
        Assert.Null(prepare.Spec.Template.Spec.Containers[0].Resources);
    }

    [Fact]
    public async Task The_same_study_file_gives_the_same_results_locally_in_containers_and_as_Jobs()
    {
        // Jobs run by a kubelet that really starts their pods in podman, the claim being this test's folder.
        await BusyboxImage.EnsureAsync();
        _api.Kubelet = PodmanKubelet.Over(Root);
        File.WriteAllText(Path.Combine(Study, "train.sh"),
            "base=$(cat $1)\necho epoch=1 objective=$(( base + $2 + 1 ))\necho \"{\\\"epoch\\\": 2, \\\"objective\\\": $(( base + $2 ))}\" >> $TUNER_METRICS_FILE\n");
        StudySpec Spec(string executor) => StudyFile.Parse($$"""
            name: everywhere
            objective: {metric: objective, goal: minimize}
            budget: {maxTrials: 10}
            parameters:
              - {name: x, type: int, min: 0, max: 100}
            trial:
              executor: {{executor}}
              steps:
                - name: prepare
                  image: {{BusyboxImage.Name}}
                  command: [sh, -c, "echo 40 > ${outputs}/base; echo rows=1"]
                - name: train
                  image: {{BusyboxImage.Name}}
                  dependsOn: [prepare]
                  command: [sh, ./train.sh, "${steps.prepare.outputs}/base", "${params.x}"]
            """, Study);
        async Task<TrialResult> RunOn(string executor, IStepExecutor runner, int number) =>
            await new PipelineRunner(Spec(executor), runner).RunAsync(
                new TrialRun($"0123456789abcdef0123456789abcdef-{number}", number, new Dictionary<string, ParameterValue> { ["x"] = ParameterValue.Of(5) }, Path.Combine(Runs, "s", number.ToString())),
                CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        var local = await RunOn("local", new LocalExecutor(), 1);
        var contained = await RunOn("container", new ContainerExecutor(BusyboxImage.Engine, BusyboxImage.EngineArguments, GpuSlots.None, CpuSlots.Machine()), 2);
        var jobs = await RunOn("kubernetes", Executor(), 3);

        foreach (var result in new[] { local, contained, jobs })
        {
            Assert.True(result.Outcome == TrialOutcome.Succeeded, result.Error);
            Assert.Equal(45, result.Metrics.Final["objective"]);
            Assert.Equal([new MetricPoint(1, 46), new MetricPoint(2, 45)], result.Metrics.Intermediate["objective"]);
            Assert.Equal(1, result.Metrics.Final["rows"]);
        }
        Assert.Equal(2, _api.Created.Count);
    }

    [Fact]
    public async Task Metric_lines_arrive_from_the_pod_log_and_the_metrics_file_while_the_step_runs_and_the_job_is_watched()
    {
        var heard = new TaskCompletionSource<MetricReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var step = Step(reported: report => heard.TrySetResult(report));
        _api.Kubelet = async pod =>
        {
            pod.Run();
            pod.Log("epoch=1 loss=0.9");
            // The step goes on only once the tuner has heard its first line: the log is read as it comes.
            await heard.Task.WaitAsync(TimeSpan.FromSeconds(20));
            File.AppendAllText(Path.Combine(step.StepDirectory, "metrics.jsonl"), "{\"epoch\": 2, \"loss\": 0.5}\n");
            pod.Log("done, no metric on this line");
            pod.Log("accuracy=0.8");
            pod.Exit(0);
        };

        var result = await Run(Executor(), step);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(0.9, (await heard.Task).Intermediate["loss"].Single().Value);
        Assert.Equal([new MetricPoint(1, 0.9), new MetricPoint(2, 0.5)], result.Metrics.Intermediate["loss"]);
        Assert.Equal(0.8, result.Metrics.Final["accuracy"]);
        Assert.Contains("done, no metric on this line", File.ReadAllText(Path.Combine(step.StepDirectory, "stdout.log")));
        Assert.True(_api.WatchRequests["jobs"] >= 1 && _api.WatchRequests["pods"] >= 1, "the Job and its pod are watched");
        // Done steps keep their Job for its time to live, for kubectl to inspect.
        Assert.Empty(_api.Deletions);
    }

    public static TheoryData<string, string> ClusterFailures => new()
    {
        { "ImagePullBackOff", "could not be pulled (ImagePullBackOff): Back-off pulling image" },
        { "ErrImagePull", "could not be pulled (ErrImagePull): pull access denied" },
        { "OOMKilled", "ran out of memory (OOMKilled) with its limit of 1Gi" },
        { "Evicted", "its pod was Evicted: The node was low on resource: memory" },
        { "Unschedulable", "stayed Unschedulable for 1 s: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu" },
        { "DeadlineExceeded", "(DeadlineExceeded): Job was active longer than specified deadline" },
        { "exit", "exited with code 3: Traceback: ValueError: bad lr" },
    };

    [Theory]
    [MemberData(nameof(ClusterFailures))]
    public async Task What_goes_wrong_in_the_cluster_becomes_the_trials_error_in_its_own_words(string failure, string said)
    {
        _api.Kubelet = async pod =>
        {
            switch (failure)
            {
                case "ImagePullBackOff": pod.Waiting(failure, "Back-off pulling image \"registry.example/train:1\""); break;
                case "ErrImagePull": pod.Waiting(failure, "pull access denied for registry.example/train"); break;
                case "OOMKilled": pod.Run(); pod.Exit(137, "OOMKilled"); break;
                case "Evicted": pod.Run(); pod.Evict("The node was low on resource: memory"); break;
                case "Unschedulable": pod.Unschedulable("0/3 nodes are available: 3 Insufficient nvidia.com/gpu"); break;
                case "DeadlineExceeded": pod.Run(); pod.DeadlineExceeded(); break;
                default: pod.Run(); pod.Log("Traceback: ValueError: bad lr"); pod.Exit(3); break;
            }
            await Task.CompletedTask;
        };
        var step = Step();

        var result = await Run(Executor(unschedulableGrace: TimeSpan.FromSeconds(1)), step);

        Assert.False(result.Succeeded);
        Assert.Contains($"step 'train'", result.Error);
        Assert.Contains(said, result.Error);
        // Only an eviction is the cluster's doing rather than the step's: worth running the trial again.
        Assert.Equal(failure == "Evicted", result.Infrastructure);
        // A pod that would wait for ever (an image never pulled, no node) is not left behind; a Job that ended by
        // itself stays for its time to live, for kubectl to inspect.
        if (failure is "ImagePullBackOff" or "ErrImagePull" or "Unschedulable")
            await WaitFor(() => _api.Deletions.Contains((StepJob.Name(step.TrialId, "train"), "Foreground")));
        else
            Assert.Empty(_api.Deletions);
    }

    [Fact]
    public async Task Watches_the_server_ends_or_expires_and_a_log_stream_cut_short_lose_nothing()
    {
        var heard = new List<MetricReport>();
        _api.DropLogAfter = 2;
        _api.Kubelet = async pod =>
        {
            pod.Run();
            for (var epoch = 1; epoch <= 3; epoch++) pod.Log($"epoch={epoch} loss=0.{epoch}");
            await Task.Delay(700);
            // The API server ends every watch; the next ones started from a version are told it is too old (410).
            _api.ExpireWatches = true;
            _api.CloseWatches();
            await Task.Delay(700);
            for (var epoch = 4; epoch <= 6; epoch++) pod.Log($"epoch={epoch} loss=0.{epoch}");
            await Task.Delay(700);
            pod.Exit(0);
        };
        var result = await Run(Executor(), Step(reported: report => { lock (heard) heard.Add(report); }));

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(Enumerable.Range(1, 6).Select(e => new MetricPoint(e, e / 10.0)), result.Metrics.Intermediate["loss"]);
        Assert.Equal(6, heard.Count);
        Assert.True(_api.LogRequests >= 2, "the cut log was opened again");
        Assert.True(_api.WatchRequests["jobs"] >= 2, "the ended watch was started again");
    }

    [Fact]
    public async Task A_Job_that_went_while_no_watch_saw_it_or_was_never_given_a_pod_fails_the_step()
    {
        _api.Kubelet = async pod =>
        {
            pod.Run();
            await Task.Delay(300);
            // Removed by its time to live, say, while the tuner's watches were reconnecting: no DELETED is ever seen.
            _api.RemoveSilently(pod.JobName);
            _api.CloseWatches();
        };
        var gone = await Run(Executor(), Step());
        Assert.Contains("was deleted outside the tuner", gone.Error);
        Assert.True(gone.Infrastructure);

        // A quota or an admission policy refuses the pod: the Job shows nothing at all.
        _api.Kubelet = null;
        var step = Step(trialId: "0123456789abcdef0123456789abcdef-9");
        var refused = await Run(Executor(unschedulableGrace: TimeSpan.FromSeconds(1)), step);
        Assert.Contains($"no pod was made for Job {StepJob.Name(step.TrialId, "train")} within 1 s", refused.Error);
        await WaitFor(() => _api.Deletions.Count == 1);
    }

    [Fact]
    public async Task A_pod_unschedulable_for_a_moment_is_given_its_grace()
    {
        _api.Kubelet = async pod =>
        {
            pod.Unschedulable("0/3 nodes are available: waiting for the autoscaler");
            await Task.Delay(300);
            pod.Pod.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True" }];
            pod.Run();
            pod.Log("objective=2");
            pod.Exit(0);
        };
        var result = await Run(Executor(unschedulableGrace: TimeSpan.FromSeconds(5)), Step());
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(2, result.Metrics.Final["objective"]);
    }

    [Fact]
    public async Task A_stop_or_a_timeout_deletes_the_Job_with_foreground_propagation()
    {
        var running = new TaskCompletionSource<FakePod>(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.Kubelet = async pod =>
        {
            pod.Run();
            pod.Log("epoch=1 loss=1");
            running.TrySetResult(pod);
            await pod.Gone.Task;
        };
        using var stop = new CancellationTokenSource();
        var stopped = Run(Executor(), Step(), stop.Token);
        var pod = await running.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await stop.CancelAsync();
        var result = await stopped;

        Assert.Equal("step 'train' was killed", result.Error);
        await WaitFor(() => pod.Deleted);
        Assert.Equal((StepJob.Name(Step().TrialId, "train"), (string?)"Foreground"), Assert.Single(_api.Deletions));
        Assert.Empty(_api.JobNames());

        using var deadline = new TrialDeadline(TimeSpan.FromSeconds(1), CancellationToken.None);
        var timedOut = await Executor().RunAsync(Step(trialId: "0123456789abcdef0123456789abcdef-8"), deadline).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(deadline.RanOut);
        Assert.Equal("step 'train' was killed", timedOut.Error);
        await WaitFor(() => _api.Deletions.Count == 2);
        Assert.Empty(_api.JobNames());
    }

    [Fact]
    public async Task After_a_restart_the_Jobs_an_earlier_tuner_left_are_deleted_and_a_rerun_never_runs_two()
    {
        var step = Step();
        var leftover = StepJob.Build(step, StepFolders.Of(step, Root).Folders!, Settings(), null);
        var elsewhere = StepJob.Build(step with { TrialId = "ffff", StepDirectory = "/somewhere/else/train" }, StepFolders.Of(step, Root).Folders!, Settings(), null);
        _api.Leave(leftover);
        _api.Leave(elsewhere);

        // At start-up: every Job of this data folder's runs goes, with its pods; another tuner's Jobs stay.
        await Executor().ReclaimAsync(Runs);
        Assert.Equal([elsewhere.Metadata.Name], _api.JobNames());
        Assert.Equal([(leftover.Metadata.Name, (string?)"Foreground")], _api.Deletions);

        // A rerun that finds its step's Job still there (being deleted, or left by a reclaim that could not reach the
        // API) waits until it is gone before creating its own.
        _api.Leave(leftover);
        _api.SlowDeletion = true;
        var rerun = Run(Executor(), step);
        await WaitFor(() => _api.Deletions.Count == 2);
        await Task.Delay(300);
        Assert.False(rerun.IsCompleted);
        Assert.Empty(_api.Created);
        _api.FinishDeletion(leftover.Metadata.Name);
        var result = await rerun;

        Assert.True(result.Succeeded, result.Error);
        Assert.Single(_api.Created);
    }

    [Fact]
    public async Task A_folder_outside_the_shared_volume_or_a_refused_Job_fails_the_step_plainly()
    {
        var outside = await Run(Executor(), Step() with { StudyDirectory = "/opt/elsewhere" });
        Assert.Contains("the study folder /opt/elsewhere is not on the shared volume", outside.Error);
        Assert.Empty(_api.Created);

        var refused = await Run(new KubernetesExecutor(_api.Client(), Settings() with { Namespace = "ml" }), Step());
        Assert.Equal($"step 'train': Kubernetes refused Job {StepJob.Name(Step().TrialId, "train")}: namespaces \"ml\" not found", refused.Error);
    }

    [Fact]
    public void A_study_may_name_neither_another_namespace_nor_another_claim_than_the_tuners()
    {
        var executor = Executor();
        Assert.Same(executor, executor.For(null).Executor);
        Assert.Same(executor, executor.For(new KubernetesSpec(FakeKubernetesApi.Namespace, "tuning-data")).Executor);
        Assert.StartsWith("trial.kubernetes.namespace 'ml' is not the tuner's namespace ('tuning'", executor.For(new KubernetesSpec("ml", null)).Problem);
        var (none, problem) = executor.For(new KubernetesSpec(null, "scratch"));
        Assert.Null(none);
        Assert.StartsWith("trial.kubernetes.volumeClaim 'scratch' is not the claim this tuner has mounted ('tuning-data'", problem);
    }

    [Fact]
    public void Settings_come_from_the_environment_and_each_mistake_names_its_variable()
    {
        var environment = new Dictionary<string, string>
        {
            [KubernetesSettings.NamespaceVariable] = "ml",
            [KubernetesSettings.ClaimVariable] = "tuning-data",
            [KubernetesSettings.VolumeRootVariable] = "/data",
            [KubernetesSettings.PullSecretsVariable] = "a, b",
            [KubernetesSettings.GpuNodeSelectorVariable] = "nvidia.com/gpu.present=true",
            [KubernetesSettings.GpuTolerationsVariable] = "nvidia.com/gpu:NoSchedule,dedicated=ml:NoExecute",
        };
        var (settings, problem) = KubernetesSettings.Read(name => environment.GetValueOrDefault(name));
        Assert.Null(problem);
        Assert.Equal("ml", settings!.Namespace);
        Assert.Equal(["a", "b"], settings.PullSecrets);
        Assert.Equal("Exists", settings.GpuTolerations[0].OperatorProperty);
        Assert.Equal(("dedicated", "ml", "NoExecute"), (settings.GpuTolerations[1].Key, settings.GpuTolerations[1].Value, settings.GpuTolerations[1].Effect));
        Assert.Equal(TimeSpan.FromHours(1), settings.JobTimeToLive);

        environment[KubernetesSettings.GpuTolerationsVariable] = "nvidia.com/gpu:Sometimes";
        Assert.Contains(KubernetesSettings.GpuTolerationsVariable, KubernetesSettings.Read(name => environment.GetValueOrDefault(name)).Problem);
        environment.Remove(KubernetesSettings.ClaimVariable);
        var missingClaim = KubernetesSettings.Read(name => environment.GetValueOrDefault(name)).Problem;
        Assert.Contains(KubernetesSettings.ClaimVariable, missingClaim);
        Assert.DoesNotContain(KubernetesSettings.VolumeRootVariable, missingClaim);
    }

    [Fact]
    public void Job_names_are_DNS_labels_and_differ_by_trial_and_step()
    {
        var name = StepJob.Name("0123456789abcdef0123456789abcdef-12345", "Train_The Model With A Very Long Step Name That Goes On And On");
        Assert.Matches("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", name);
        Assert.True(name.Length <= 63);
        Assert.NotEqual(StepJob.Name("a-1", "train"), StepJob.Name("a-2", "train"));
        Assert.NotEqual(StepJob.Name("a-1", "train"), StepJob.Name("a-1", "evaluate"));
        Assert.Equal(StepJob.Name("a-1", "train"), StepJob.Name("a-1", "train"));
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 20)
        {
            if (waited > 20_000) throw new TimeoutException("the condition never held");
            await Task.Delay(20);
        }
    }
}
