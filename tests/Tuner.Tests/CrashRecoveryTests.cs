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

    private async Task RewriteStudyState(Func<StudyGrain.StudyState, StudyGrain.StudyState> change)
    {
        var database = Path.Combine(Root, "tuner.db");
        string grainId;
        await using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var query = connection.CreateCommand();
            query.CommandText = "SELECT grain_id FROM grain_state WHERE state_name = 'study'";
            grainId = (string)(await query.ExecuteScalarAsync())!;
        }
        await using var services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(StudyGrain).Assembly)).BuildServiceProvider();
        using var storage = new SqliteGrainStorage(database, services.GetRequiredService<Serializer>());
        var state = new GrainState<StudyGrain.StudyState>();
        await storage.ReadStateAsync("study", GrainId.Parse(grainId), state);
        state.State = change(state.State!);
        await storage.WriteStateAsync("study", GrainId.Parse(grainId), state);
    }
}
