using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Storage;
using Tuning.Tests.Shared;

namespace Tuning.Tuner.Tests;

/// <summary>A study's store as a crash leaves it, read back by a new silo.</summary>
public sealed class CrashRecoveryTests() : InTemporaryFolder("tuning-crash-")
{
    [Fact]
    public async Task Trial_numbers_handed_out_before_a_crash_but_never_started_run_after_the_resume()
    {
        // The study header counts three trials, as it does once written and before any trial grain has started:
        // a crash right there leaves numbers without records. Each must still run, once.
        var yaml = TuningCluster.Study("[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 5, parallelTrials: 3}");
        Guid id;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            var study = cluster.Grains.GetGrain<IStudyGrain>(Guid.NewGuid());
            id = (await study.Create(new StudySource(yaml, Root), 4)).Id;
        }
        await RewriteStudyState(state => state with { Status = StudyStatus.Running, TrialCount = 3 });

        await using (var restarted = await TuningCluster.StartAsync(Root))
        {
            var study = restarted.Grains.GetGrain<IStudyGrain>(id);
            Assert.Equal(3, (await study.GetSnapshot()).Created);
            await study.Start();
            var end = await TuningCluster.WaitForEndAsync(study);
            Assert.Equal(StudyStatus.Succeeded, end.Status);
            var trials = await study.GetTrials();
            Assert.Equal(Enumerable.Range(0, 5), trials.Select(t => t.Number).Order());
            Assert.All(trials, t => Assert.Equal(TrialStatus.Succeeded, t.Status));
        }
    }

    [Fact]
    public async Task Trials_stored_past_the_header_s_count_are_read_back_and_a_number_between_them_never_stored_runs_again()
    {
        // The header is not rewritten for every trial handed out: a crash leaves trials stored past its count, and
        // where several were handed out together, one may be missing between stored ones.
        var yaml = TuningCluster.Study("[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 4, parallelTrials: 3}");
        Guid id;
        TrialRecord[] before;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            var study = await cluster.StartStudyAsync(yaml);
            id = (await TuningCluster.WaitForEndAsync(study)).Id;
            before = (await study.GetTrials()).OrderBy(t => t.Number).ToArray();
        }
        await RewriteStudyState(state => state with { Status = StudyStatus.Running, CompletedAt = null, TrialCount = 1 });
        await DeleteState("trial", TrialGrain.Key(id, 2));

        await using (var restarted = await TuningCluster.StartAsync(Root))
        {
            var study = restarted.Grains.GetGrain<IStudyGrain>(id);
            Assert.Equal(4, (await study.GetSnapshot()).Created);
            await study.Start();
            Assert.Equal(StudyStatus.Succeeded, (await TuningCluster.WaitForEndAsync(study)).Status);
            var trials = (await study.GetTrials()).OrderBy(t => t.Number).ToArray();
            Assert.Equal([0, 1, 2, 3], trials.Select(t => t.Number));
            Assert.All(trials, t => Assert.Equal(TrialStatus.Succeeded, t.Status));
            // Those stored were not run again: the same attempts.
            Assert.Equal(before.Where(t => t.Number != 2).Select(t => t.Attempt), trials.Where(t => t.Number != 2).Select(t => t.Attempt));
            Assert.NotEqual(before[2].Attempt, trials[2].Attempt);
        }
    }

    [Fact]
    public async Task A_trial_stores_that_it_ran_an_enqueued_set_and_a_record_stored_before_it_did_reads_so_too()
    {
        var yaml = TuningCluster.Study("[sh, -c, \"echo objective=${params.x}\"]", "{maxTrials: 3, parallelTrials: 1}")
            .Replace("parameters:\n", "enqueue:\n  - {x: 9.25}\nparameters:\n");
        Guid id;
        await using (var cluster = await TuningCluster.StartAsync(Root))
        {
            var study = await cluster.StartStudyAsync(yaml);
            id = (await TuningCluster.WaitForEndAsync(study)).Id;
            Assert.Equal([true, false, false], (await study.GetTrials()).OrderBy(t => t.Number).Select(t => t.Enqueued));
        }
        // Stored with the record, read back from the store; and a record stored before trials recorded it (false,
        // as an older record reads) is shown as enqueued all the same, since trial 0 always runs the first set.
        await RewriteState<TrialRecord>("trial", TrialGrain.Key(id, 0), record =>
        {
            Assert.True(record.Enqueued);
            return record with { Enqueued = false };
        });
        await using (var restarted = await TuningCluster.StartAsync(Root))
        {
            var trials = (await restarted.Grains.GetGrain<IStudyGrain>(id).GetTrials()).OrderBy(t => t.Number).ToArray();
            Assert.Equal([true, false, false], trials.Select(t => t.Enqueued));
            Assert.Equal(9.25, trials[0].Parameters["x"].Number);
        }
    }

    /// <summary>Deletes the one stored state named <paramref name="stateName"/> whose grain key ends with <paramref name="keyEnd"/>.</summary>
    private async Task DeleteState(string stateName, string keyEnd)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(Root, "tuner.db")};Pooling=False");
        await connection.OpenAsync();
        await using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM grain_state WHERE state_name = $name AND grain_id LIKE '%' || $key";
        delete.Parameters.AddWithValue("$name", stateName);
        delete.Parameters.AddWithValue("$key", keyEnd);
        Assert.Equal(1, await delete.ExecuteNonQueryAsync());
    }

    private Task RewriteStudyState(Func<StudyGrain.StudyState, StudyGrain.StudyState> change) => RewriteState("study", "", change);

    /// <summary>Rewrites the one stored state named <paramref name="stateName"/> whose grain key ends with <paramref name="keyEnd"/>.</summary>
    private async Task RewriteState<T>(string stateName, string keyEnd, Func<T, T> change)
    {
        var database = Path.Combine(Root, "tuner.db");
        string grainId;
        await using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var query = connection.CreateCommand();
            query.CommandText = "SELECT grain_id FROM grain_state WHERE state_name = $name";
            query.Parameters.AddWithValue("$name", stateName);
            var ids = new List<string>();
            await using (var reader = await query.ExecuteReaderAsync())
                while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
            grainId = Assert.Single(ids, g => g.EndsWith(keyEnd, StringComparison.Ordinal));
        }
        await using var services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(StudyGrain).Assembly)).BuildServiceProvider();
        using var storage = new SqliteGrainStorage(database, services.GetRequiredService<Serializer>());
        var state = new GrainState<T>();
        await storage.ReadStateAsync(stateName, GrainId.Parse(grainId), state);
        state.State = change(state.State!);
        await storage.WriteStateAsync(stateName, GrainId.Parse(grainId), state);
    }
}
