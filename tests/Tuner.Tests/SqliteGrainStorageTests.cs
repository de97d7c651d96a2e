using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Tuning.Algorithms.Space;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Storage;

namespace Tuning.Tuner.Tests;

public sealed class SqliteGrainStorageTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tuning-sqlite-").FullName;
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private string Database => Path.Combine(_directory, "tuner.db");

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static readonly GrainId Grain = GrainId.Create("trial", "study/1");

    private static TrialRecord Record(int number, TrialStatus status) => new(
        $"s-{number}", number, status, new Dictionary<string, ParameterValue> { ["lr"] = ParameterValue.Of(0.01), ["opt"] = ParameterValue.Of("adam") },
        new Dictionary<string, double> { ["objective"] = 0.5 }, [], [], DateTimeOffset.UnixEpoch, null, null);

    [Fact]
    public async Task State_is_written_read_back_by_another_connection_and_cleared()
    {
        using (var storage = new SqliteGrainStorage(Database, Serializer))
        {
            var state = new GrainState<TrialRecord>(Record(1, TrialStatus.Running));
            await storage.WriteStateAsync("trial", Grain, state);
            state.State = Record(1, TrialStatus.Succeeded);
            await storage.WriteStateAsync("trial", Grain, state);
            Assert.Equal("2", state.ETag);
        }

        using var reopened = new SqliteGrainStorage(Database, Serializer);
        var read = new GrainState<TrialRecord>();
        await reopened.ReadStateAsync("trial", Grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(TrialStatus.Succeeded, read.State!.Status);
        Assert.Equal("adam", read.State.Parameters["opt"].Category);
        Assert.Equal(0.01, read.State.Parameters["lr"].Number);

        await reopened.ClearStateAsync("trial", Grain, read);
        var gone = new GrainState<TrialRecord>();
        await reopened.ReadStateAsync("trial", Grain, gone);
        Assert.False(gone.RecordExists);
        Assert.Null(gone.ETag);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused()
    {
        using var storage = new SqliteGrainStorage(Database, Serializer);
        var first = new GrainState<TrialRecord>(Record(1, TrialStatus.Running));
        await storage.WriteStateAsync("trial", Grain, first);

        var second = new GrainState<TrialRecord>();
        await storage.ReadStateAsync("trial", Grain, second);
        second.State = Record(1, TrialStatus.Failed);
        await storage.WriteStateAsync("trial", Grain, second);

        first.State = Record(1, TrialStatus.Succeeded);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("trial", Grain, first));
        var blind = new GrainState<TrialRecord>(Record(1, TrialStatus.Succeeded));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("trial", Grain, blind));
    }

    [Fact]
    public async Task Each_grain_has_its_own_row()
    {
        using var storage = new SqliteGrainStorage(Database, Serializer);
        for (var n = 0; n < 3; n++)
            await storage.WriteStateAsync("trial", GrainId.Create("trial", $"study/{n}"), new GrainState<TrialRecord>(Record(n, TrialStatus.Succeeded)));
        var read = new GrainState<TrialRecord>();
        await storage.ReadStateAsync("trial", GrainId.Create("trial", "study/2"), read);
        Assert.Equal(2, read.State!.Number);
    }
}
