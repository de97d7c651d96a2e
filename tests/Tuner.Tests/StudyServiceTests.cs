using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Studies;
using Tuning.Tests.Shared;

namespace Tuning.Tuner.Tests;

/// <summary>The facade every front end uses, over a real cluster and SQLite store.</summary>
public sealed class StudyServiceTests() : InTemporaryFolder("tuning-service-")
{
    private StudySource Source(string steps, string budget, string ns = StudySource.DefaultNamespace) =>
        new(TuningCluster.Study(steps, budget), Root, ns);

    [Fact]
    public async Task A_namespace_sees_and_touches_only_its_own_studies()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var studies = cluster.Studies;
        var mine = await studies.SubmitAsync(Source("[sleep, \"30\"]", "{maxTrials: 2}", "team-a"));
        var theirs = await studies.SubmitAsync(Source("[sleep, \"30\"]", "{maxTrials: 2}", "team-b"));

        Assert.Equal([mine.Id], (await studies.ListAsync("team-a")).Select(s => s.Id));
        Assert.Null(await studies.GetAsync(theirs.Id, "team-a"));
        Assert.Null(await studies.TrialsAsync(theirs.Id, "team-a", new TrialQuery()));
        Assert.Null(await studies.SourceAsync(theirs.Id, "team-a"));
        Assert.Equal(StopOutcome.NotFound, (await studies.StopAsync(theirs.Id, "team-a")).Outcome);
        Assert.False(await studies.DeleteAsync(theirs.Id, "team-a"));
        Assert.Equal(StudyStatus.Running, (await studies.GetAsync(theirs.Id, "team-b"))!.Status);

        Assert.Equal(StopOutcome.Stopped, (await studies.StopAsync(mine.Id, "team-a")).Outcome);
        Assert.Equal(StopOutcome.AlreadyEnded, (await studies.StopAsync(mine.Id, "team-a")).Outcome);
        Assert.True(await studies.DeleteAsync(theirs.Id, "team-b"));
    }

    [Fact]
    public async Task Deleting_a_running_study_kills_its_processes_and_forgets_it()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var pids = Path.Combine(Root, "pids");
        var study = await cluster.Studies.SubmitAsync(Source($"[sh, -c, \"echo $$ >> {pids}; exec sleep 30\"]", "{maxTrials: 4, parallelTrials: 2}"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((!File.Exists(pids) || File.ReadAllLines(pids).Length < 2) && DateTime.UtcNow < deadline) await Task.Delay(20);

        Assert.True(await cluster.Studies.DeleteAsync(study.Id, StudySource.DefaultNamespace));
        Assert.Null(await cluster.Studies.GetAsync(study.Id, StudySource.DefaultNamespace));
        Assert.Empty(await cluster.Studies.ListAsync(StudySource.DefaultNamespace));
        // Its folders go in the background, after the delete has answered.
        var runs = Path.Combine(Root, "runs", study.Id.ToString("N"));
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (Directory.Exists(runs) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.False(Directory.Exists(runs));
        foreach (var pid in File.ReadAllLines(pids).Select(int.Parse))
            Assert.False(Trials.Execution.StepProcesses.IsAlive(pid), $"step {pid} still runs");
    }

    /// <summary>
    /// A study of a few thousand trials made cheaply: each fails at once, its executor (kubernetes) not configured here,
    /// so no process is started; a failed trial has a record to delete as any other.
    /// </summary>
    private async Task<StudySnapshot> LargeStudyAsync(TuningCluster cluster, int trials)
    {
        var yaml = TuningCluster.Study("[\"true\"]", $"{{maxTrials: {trials}, parallelTrials: 200, maxFailedTrials: {trials}}}")
            .Replace("  steps:", "  executor: kubernetes\n  steps:").Replace("- name: s", "- name: s\n      image: busybox");
        var study = await cluster.StartStudyAsync(yaml);
        return await TuningCluster.WaitForEndAsync(study, seconds: 120);
    }

    [Fact]
    public async Task Deleting_a_large_study_hides_it_at_once_and_the_list_answers_meanwhile()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var large = await LargeStudyAsync(cluster, 3000);
        Assert.Equal(3000, large.Failed);
        var other = await cluster.Studies.SubmitAsync(Source("[sh, -c, \"echo objective=1\"]", "{maxTrials: 1}"));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var deleting = cluster.Studies.DeleteAsync(large.Id, StudySource.DefaultNamespace);
        var answered = deleting.ContinueWith(_ => clock.Elapsed);
        var slowest = TimeSpan.Zero;
        var lists = 0;
        // Lists while the delete runs, and for a while after it answered (its trials may still be being forgotten).
        while (!deleting.IsCompleted || clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            var asked = clock.Elapsed;
            var deleted = deleting.IsCompletedSuccessfully;
            var listed = await cluster.Studies.ListAsync(StudySource.DefaultNamespace);
            var took = clock.Elapsed - asked;
            if (took > slowest) slowest = took;
            lists++;
            Assert.Contains(listed, s => s.Id == other.Id);
            if (deleted) Assert.DoesNotContain(listed, s => s.Id == large.Id);
            await Task.Delay(20);
        }
        Assert.True(await deleting);
        Console.WriteLine($"delete of {large.Created} trials answered in {(await answered).TotalMilliseconds:F0} ms; slowest of {lists} lists meanwhile: {slowest.TotalMilliseconds:F0} ms");
        // A delete that held the registry's turn stalled lists for the whole delete (10 s for these 3,000 trials); a
        // loaded 2-core machine can take a good part of a second for one list, so the bound sits between the two.
        Assert.True(slowest < TimeSpan.FromMilliseconds(2500), $"a list took {slowest.TotalMilliseconds:F0} ms during the delete");
        Assert.Null(await cluster.Studies.GetAsync(large.Id, StudySource.DefaultNamespace));
        // Its records go in the background: gone soon after, the registry entry last.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await cluster.Grains.GetGrain<IStudyRegistryGrain>(0).List()).Any(e => e.Id == large.Id) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.DoesNotContain(await cluster.Grains.GetGrain<IStudyRegistryGrain>(0).List(), e => e.Id == large.Id);
        Assert.Null(await cluster.Grains.GetGrain<ITrialGrain>(TrialGrain.Key(large.Id, 2999)).GetRecord());
    }

    [Fact]
    public async Task Deletes_cut_short_are_finished_when_the_service_starts_again()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var registry = cluster.Grains.GetGrain<IStudyRegistryGrain>(0);
        // Cut short before anything was forgotten: the entry marked, the study and its trials all there.
        var study = await cluster.Studies.SubmitAsync(Source("[sh, -c, \"echo objective=1\"]", "{maxTrials: 3}"));
        await TuningCluster.WaitForEndAsync(cluster.Grains.GetGrain<IStudyGrain>(study.Id));
        await registry.MarkDeleting(study.Id);
        // Cut short after the header went: only the entry is left.
        var orphan = new StudyEntry(Guid.NewGuid(), "orphan", StudySource.DefaultNamespace, "hash", DateTimeOffset.UtcNow, Deleting: true);
        await registry.Register(orphan);
        Assert.Empty(await cluster.Studies.ListAsync(StudySource.DefaultNamespace));

        await cluster.Studies.ResumeRunningAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await registry.List()).Length > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Empty(await registry.List());
        Assert.Null(await cluster.Grains.GetGrain<ITrialGrain>(TrialGrain.Key(study.Id, 2)).GetRecord());
    }

    [Fact]
    public async Task Stopping_a_study_while_it_is_deleted_is_not_found_or_already_ended_never_an_error()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        for (var race = 0; race < 30; race++)
        {
            var study = await cluster.Studies.SubmitAsync(Source("[sleep, \"30\"]", "{maxTrials: 2, parallelTrials: 2}"));
            var stop = cluster.Studies.StopAsync(study.Id, StudySource.DefaultNamespace);
            var delete = cluster.Studies.DeleteAsync(study.Id, StudySource.DefaultNamespace);
            Assert.Contains((await stop).Outcome, new[] { StopOutcome.Stopped, StopOutcome.NotFound, StopOutcome.AlreadyEnded });
            Assert.True(await delete);
            Assert.Equal(StopOutcome.NotFound, (await cluster.Studies.StopAsync(study.Id, StudySource.DefaultNamespace)).Outcome);
            Assert.Null(await cluster.Studies.GetAsync(study.Id, StudySource.DefaultNamespace));
        }
    }

    [Fact]
    public async Task A_file_this_machine_cannot_run_is_refused_with_the_reason()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var error = await Assert.ThrowsAsync<StudyFileException>(() => cluster.Studies.SubmitAsync(new StudySource(
            TuningCluster.Study("[\"true\"]", "{maxTrials: 1}").Replace("  steps:", "  executor: kubernetes\n  steps:")
                .Replace("- name: s", "- name: s\n      image: busybox"), Root)));
        Assert.Equal("trial.executor", Assert.Single(error.Errors).Path);
        Assert.Empty(await cluster.Studies.ListAsync(StudySource.DefaultNamespace));
    }

    [Fact]
    public async Task Starting_or_resuming_refuses_a_study_this_machine_cannot_run_as_submitting_does()
    {
        // tuner run starts or resumes; the HTTP service submits: both ask the same question, in the same words.
        await using var cluster = await TuningCluster.StartAsync(Root);
        var yaml = TuningCluster.Study("[\"true\"]", "{maxTrials: 1}").Replace("- name: s", "- name: s\n      resources: {gpu: 1}");
        var spec = StudyFile.Parse(yaml, Root);
        var started = await Assert.ThrowsAsync<StudyFileException>(() => cluster.Studies.StartOrResumeAsync(spec, new StudySource(yaml, Root)));
        var submitted = await Assert.ThrowsAsync<StudyFileException>(() => cluster.Studies.SubmitAsync(new StudySource(yaml, Root)));
        var refusal = Assert.Single(started.Errors);
        Assert.Equal("trial.steps[0].resources.gpu", refusal.Path);
        Assert.StartsWith("step 's' needs 1 GPU and this machine lends 0", refusal.Message);
        Assert.Equal(refusal, Assert.Single(submitted.Errors));
        Assert.Empty(await cluster.Studies.ListAsync(StudySource.DefaultNamespace));
    }

    [Fact]
    public async Task A_server_resumes_its_running_studies_when_it_starts_again()
    {
        StudySnapshot started;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            // Every trial waits for a file that appears only after the restart.
            var gate = Path.Combine(Root, "open");
            started = await cluster.Studies.SubmitAsync(Source($"[sh, -c, \"while [ ! -e {gate} ]; do sleep 0.05; done; echo objective=${{params.x}}\"]", "{maxTrials: 5, parallelTrials: 2}"));
            Assert.Equal(StudyStatus.Running, started.Status);
        }
        File.WriteAllText(Path.Combine(Root, "open"), "");
        await using var restarted = await TuningCluster.StartAsync(Root, resumeStudies: true);
        var study = restarted.Grains.GetGrain<IStudyGrain>(started.Id);
        var end = await TuningCluster.WaitForEndAsync(study);
        Assert.Equal(StudyStatus.Succeeded, end.Status);
        Assert.Equal(5, end.Succeeded);
    }

    [Fact]
    public async Task Trials_page_by_cursor_filtered_and_sorted_without_skipping_or_repeating()
    {
        await using var cluster = await TuningCluster.StartAsync(Root);
        var study = await cluster.Studies.SubmitAsync(Source("[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 23, parallelTrials: 4}"));
        await TuningCluster.WaitForEndAsync(cluster.Grains.GetGrain<IStudyGrain>(study.Id));

        var seen = new List<TrialRecord>();
        string? after = null;
        do
        {
            var page = (await cluster.Studies.TrialsAsync(study.Id, StudySource.DefaultNamespace, new TrialQuery(TrialStatus.Succeeded, "-value", 5, after)))!;
            Assert.Equal(23, page.Total);
            Assert.InRange(page.Trials.Length, 1, 5);
            seen.AddRange(page.Trials);
            after = page.Next;
        } while (after is not null);
        Assert.Equal(23, seen.Select(t => t.Number).Distinct().Count());
        // -value: worst first for a minimised objective.
        Assert.Equal(seen.Select(t => t.Metrics["objective"]).OrderDescending(), seen.Select(t => t.Metrics["objective"]));
        var none = await cluster.Studies.TrialsAsync(study.Id, StudySource.DefaultNamespace, new TrialQuery(TrialStatus.Failed));
        Assert.Equal(0, none!.Total);
    }
}
