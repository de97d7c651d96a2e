using Tuning.Trials.Execution;
using Tuning.Trials.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests;

/// <summary>GPU lending, with made-up GPU ids (no GPU is needed: the ids only reach CUDA_VISIBLE_DEVICES).</summary>
public sealed class GpuSlotsTests() : InTemporaryFolder("tuning-gpus-")
{
    private StepInvocation Step(string name, int gpus, string script) => new(
        "t", name, ["sh", "-c", script], Directory.CreateDirectory(Path.Combine(Root, name)).FullName,
        Path.Combine(Root, name, "outputs"), Root, new Dictionary<string, string>(), null, new ResourceSpec(gpus, null, null));

    [Fact]
    public async Task Each_gpu_serves_one_step_at_a_time_and_steps_see_only_their_own()
    {
        var executor = new LocalExecutor(new GpuSlots(["0", "1"]));
        var log = Path.Combine(Root, "log");
        // Each step logs "start ID" and "end ID" around a short sleep.
        var steps = Enumerable.Range(0, 6).Select(i => executor.RunAsync(Step($"s{i}", 1,
            $"echo start $CUDA_VISIBLE_DEVICES >> {log}; sleep 0.2; echo end $CUDA_VISIBLE_DEVICES >> {log}; echo objective=$CUDA_VISIBLE_DEVICES"),
            TrialDeadline.None(CancellationToken.None))).ToArray();
        var results = await Task.WhenAll(steps);
        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal([0.0, 1.0], results.Select(r => r.Metrics.Final["objective"]).Distinct().Order());

        var holding = new HashSet<string>();
        foreach (var line in File.ReadAllLines(log))
        {
            var (what, id) = (line.Split(' ')[0], line.Split(' ')[1]);
            if (what == "start") Assert.True(holding.Add(id), $"GPU {id} lent twice at once");
            else holding.Remove(id);
        }
    }

    [Fact]
    public async Task A_step_that_asks_for_no_gpu_sees_none_on_a_machine_with_gpus()
    {
        var result = await new LocalExecutor(new GpuSlots(["0"])).RunAsync(Step("cpu", 0, "echo objective=${#CUDA_VISIBLE_DEVICES}"), TrialDeadline.None(CancellationToken.None));
        Assert.Equal(0, result.Metrics.Final["objective"]);
    }

    [Fact]
    public async Task A_step_asking_for_more_gpus_than_the_machine_has_fails_saying_so()
    {
        var result = await new LocalExecutor(new GpuSlots(["0"])).RunAsync(Step("big", 2, "echo objective=1"), TrialDeadline.None(CancellationToken.None));
        Assert.False(result.Succeeded);
        Assert.Contains("needs 2 GPUs and this machine lends 1", result.Error);
    }

    [Fact]
    public async Task A_step_waiting_for_a_gpu_can_be_cancelled()
    {
        var slots = new GpuSlots(["0"]);
        using var held = await slots.AcquireAsync(1, CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var result = await new LocalExecutor(slots).RunAsync(Step("waiting", 1, "echo objective=1"), TrialDeadline.None(cancel.Token));
        Assert.Contains("waiting for a GPU", result.Error);
    }

    [Fact]
    public async Task Time_spent_waiting_for_a_gpu_does_not_count_against_the_trial_timeout()
    {
        // A 1 s timeout; the step waits 1.5 s for the GPU, then runs for 0.5 s: within its timeout.
        var slots = new GpuSlots(["0"]);
        var held = await slots.AcquireAsync(1, CancellationToken.None);
        _ = Task.Delay(1500).ContinueWith(_ => held.Dispose());
        using var deadline = new TrialDeadline(TimeSpan.FromSeconds(1), CancellationToken.None);
        var result = await new LocalExecutor(slots).RunAsync(Step("patient", 1, "sleep 0.5; echo objective=1"), deadline);
        Assert.True(result.Succeeded, result.Error);

        // The clock still runs while the step itself runs.
        using var brief = new TrialDeadline(TimeSpan.FromMilliseconds(300), CancellationToken.None);
        var late = await new LocalExecutor(slots).RunAsync(Step("slow", 1, "sleep 5; echo objective=1"), brief);
        Assert.False(late.Succeeded);
    }

    [Fact]
    public async Task Two_steps_needing_two_gpus_each_take_turns_instead_of_deadlocking()
    {
        var slots = new GpuSlots(["0", "1"]);
        var leases = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var lease = await slots.AcquireAsync(2, CancellationToken.None);
            await Task.Delay(20);
            return lease.Ids.Count;
        })).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(leases, count => Assert.Equal(2, count));
    }

    [Theory]
    [InlineData("0,1", null, new[] { "0", "1" })]
    [InlineData("none", "0", new string[0])]
    [InlineData(null, "2,3", new[] { "2", "3" })]
    [InlineData(null, null, new[] { "0" })]
    public void Detection_prefers_tuner_gpus_then_cuda_visible_devices_then_nvidia_smi(string? tunerGpus, string? visible, string[] expected)
    {
        var slots = GpuSlots.Detect(name => name switch
        {
            GpuSlots.Variable => tunerGpus,
            "CUDA_VISIBLE_DEVICES" => visible,
            _ => null,
        }, () => ["0"]);
        Assert.Equal(expected, slots.Ids);
    }
}

/// <summary>GPU fractions and core counts, accounted in whole shares.</summary>
public sealed class SharedDevicesTests
{
    [Fact]
    public async Task Four_quarter_gpu_steps_share_one_device_and_a_fifth_waits()
    {
        var slots = new GpuSlots(["7"]);
        var leases = new List<DeviceLease>();
        for (var i = 0; i < 4; i++) leases.Add(await slots.AcquireAsync(0.25, CancellationToken.None));
        Assert.All(leases, l => Assert.Equal(["7"], l.Ids));
        Assert.Equal([0.0], slots.Free);
        var fifth = slots.AcquireAsync(0.25, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(fifth.IsCompleted);
        leases[2].Dispose();
        leases[2].Dispose(); // twice: returned once
        using (await fifth.WaitAsync(TimeSpan.FromSeconds(5))) Assert.Equal([0.0], slots.Free);
        foreach (var lease in leases) lease.Dispose();
        Assert.Equal([1.0], slots.Free);
    }

    [Fact]
    public async Task Fractions_pack_onto_the_fullest_device_that_fits_so_whole_devices_stay_free()
    {
        var slots = new GpuSlots(["0", "1"]);
        using var half = await slots.AcquireAsync(0.5, CancellationToken.None);
        using var third = await slots.AcquireAsync(0.3, CancellationToken.None);
        Assert.Equal(half.Ids, third.Ids);
        using var whole = await slots.AcquireAsync(1, CancellationToken.None);
        Assert.NotEqual(half.Ids, whole.Ids);
        // 0.2 of the first device is left: exactly enough, with no rounding lost.
        using var fifth = await slots.AcquireAsync(0.2, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([0.0, 0.0], slots.Free);
    }

    [Fact]
    public async Task A_whole_gpu_request_waits_for_idle_devices_while_fractions_hold_them()
    {
        var slots = new GpuSlots(["0", "1"]);
        var small = await slots.AcquireAsync(0.1, CancellationToken.None);
        var two = slots.AcquireAsync(2, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(two.IsCompleted);
        small.Dispose();
        using var both = await two.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["0", "1"], both.Ids);
    }

    [Fact]
    public async Task Quarter_gpu_steps_run_four_at_a_time_and_give_their_share_back_when_they_fail_or_time_out()
    {
        var root = Directory.CreateTempSubdirectory("tuning-shares-").FullName;
        try
        {
            var slots = new GpuSlots(["0"]);
            var executor = new LocalExecutor(slots);
            var log = Path.Combine(root, "log");
            StepInvocation Step(int i, string script) => new(
                "t", $"s{i}", ["sh", "-c", script], Directory.CreateDirectory(Path.Combine(root, $"s{i}")).FullName,
                Path.Combine(root, $"s{i}", "outputs"), root, new Dictionary<string, string>(), null, new ResourceSpec(0.25, null, null));
            // Eight steps, some failing: never more than four at once, all shares back at the end.
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => executor.RunAsync(
                Step(i, $"echo start >> {log}; sleep 0.3; echo end >> {log}; exit {i % 3}"), TrialDeadline.None(CancellationToken.None))));
            Assert.Equal(5, results.Count(r => !r.Succeeded));
            var (running, most) = (0, 0);
            foreach (var line in File.ReadAllLines(log))
                most = Math.Max(most, running += line == "start" ? 1 : -1);
            Assert.Equal(4, most);
            using var deadline = new TrialDeadline(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            var late = await executor.RunAsync(Step(9, "sleep 10"), deadline);
            Assert.False(late.Succeeded);
            Assert.Equal([1.0], slots.Free);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Cores_are_lent_in_turn_and_a_request_beyond_the_machine_takes_all_of_it()
    {
        var cpus = new CpuSlots(4);
        using var three = await cpus.AcquireAsync(3, CancellationToken.None);
        var two = cpus.AcquireAsync(2, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(two.IsCompleted);
        three.Dispose();
        (await two.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        using var everything = await cpus.AcquireAsync(64, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        var more = cpus.AcquireAsync(0.5, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(more.IsCompleted);
    }
}
