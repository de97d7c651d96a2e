using Microsoft.Data.Sqlite;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Tuning.Tuner.Storage;

/// <summary>
/// Grain state in one SQLite file: a row per grain and state name, written in WAL mode so a
/// <c>kill -9</c> loses nothing that was written. ETags are row versions: a write whose ETag is stale
/// is refused with <see cref="InconsistentStateException"/>, as Orleans expects of every provider.
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage, IDisposable
{
    private readonly Serializer _serializer;
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public SqliteGrainStorage(string databasePath, Serializer serializer)
    {
        _serializer = serializer;
        // The store holds every study file and result: its folder 0700, the database 0600 before SQLite opens it (its
        // -wal and -shm files take the database's mode).
        Tuning.Trials.PrivateFiles.Folder(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        foreach (var file in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" })
            if (file == databasePath || File.Exists(file)) Tuning.Trials.PrivateFiles.File600(file);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        _connection.Open();
        // WAL: readers never block the writer and a crash cannot tear a commit; NORMAL sync is durable
        // against process crashes (what a killed run needs) without an fsync per trial.
        Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA busy_timeout = 10000;
            CREATE TABLE IF NOT EXISTS grain_state (
                grain_id   TEXT    NOT NULL,
                state_name TEXT    NOT NULL,
                etag       INTEGER NOT NULL,
                data       BLOB    NOT NULL,
                PRIMARY KEY (grain_id, state_name)) WITHOUT ROWID;
            """);
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_gate)
        {
            using var command = Command("SELECT etag, data FROM grain_state WHERE grain_id = $id AND state_name = $name", grainId, stateName);
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                grainState.ETag = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
                grainState.State = _serializer.Deserialize<T>((byte[])reader.GetValue(1));
                grainState.RecordExists = true;
            }
            else
            {
                grainState.ETag = null;
                grainState.RecordExists = false;
            }
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = _serializer.SerializeToArray(grainState.State);
        lock (_gate)
        {
            long version;
            if (grainState.ETag is null)
            {
                using var insert = Command(
                    "INSERT INTO grain_state (grain_id, state_name, etag, data) VALUES ($id, $name, 1, $data) ON CONFLICT DO NOTHING",
                    grainId, stateName);
                insert.Parameters.AddWithValue("$data", data);
                if (insert.ExecuteNonQuery() == 0)
                    throw new InconsistentStateException($"state '{stateName}' of {grainId} was written by someone else", "(exists)", "(none)");
                version = 1;
            }
            else
            {
                version = long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture);
                using var update = Command(
                    "UPDATE grain_state SET etag = etag + 1, data = $data WHERE grain_id = $id AND state_name = $name AND etag = $etag",
                    grainId, stateName);
                update.Parameters.AddWithValue("$data", data);
                update.Parameters.AddWithValue("$etag", version);
                if (update.ExecuteNonQuery() == 0)
                    throw new InconsistentStateException($"state '{stateName}' of {grainId} changed since it was read", "(newer)", grainState.ETag);
                version++;
            }
            grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_gate)
        {
            using var delete = Command("DELETE FROM grain_state WHERE grain_id = $id AND state_name = $name AND etag = $etag", grainId, stateName);
            delete.Parameters.AddWithValue("$etag", grainState.ETag is null ? -1 : long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture));
            if (delete.ExecuteNonQuery() == 0 && grainState.ETag is not null)
                throw new InconsistentStateException($"state '{stateName}' of {grainId} changed since it was read", "(newer)", grainState.ETag);
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        lock (_gate) _connection.Dispose();
    }

    private SqliteCommand Command(string sql, GrainId grainId, string stateName)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", grainId.ToString());
        command.Parameters.AddWithValue("$name", stateName);
        return command;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
