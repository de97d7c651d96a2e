using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.Serialization;
using Tuning.Trials.Execution;
using Tuning.Tuner.Storage;

namespace Tuning.Tuner;

/// <summary>The name of the grain storage every tuning grain uses.</summary>
public static class TuningStorage
{
    public const string Name = "tuning";
}

public static class TuningSilo
{
    /// <summary>
    /// Adds the tuning grains' services, with their state and reminders in the embedded SQLite store under
    /// <paramref name="dataDirectory"/>, or in the Redis server <paramref name="redis"/> names (a cluster's store:
    /// its silos share the data folder for trial folders and the step cache).
    /// </summary>
    /// <param name="gpus">The GPUs to lend to steps; detected on this machine where not given.</param>
    /// <param name="resumeStudies">Start again, once up, every study that was running when the last process ended (a server).</param>
    /// <param name="redis">A Redis server (<c>HOST:PORT</c>) for grain state and reminders; null for the embedded store.</param>
    public static ISiloBuilder AddTuning(this ISiloBuilder silo, string dataDirectory, GpuSlots? gpus = null, bool resumeStudies = false, string? redis = null)
    {
        // The data folder holds every study file, log and result: made private to this user before anything writes there.
        Trials.PrivateFiles.Folder(dataDirectory);
        var watchPeriod = SecondsFromEnvironment(Hosting.TunerOptions.WatchPeriodVariable) ?? new Hosting.TunerOptions().WatchPeriod;
        silo.Services.AddSingleton(_ => gpus ?? GpuSlots.Detect());
        silo.Services.Configure<Hosting.TunerOptions>(o =>
        {
            o.DataDirectory = dataDirectory;
            o.ResumeStudiesOnStart = resumeStudies;
            o.WatchPeriod = watchPeriod;
            o.Clustered = redis is not null;
        });
        silo.Services.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = watchPeriod < o.MinimumReminderPeriod ? watchPeriod : o.MinimumReminderPeriod);
        silo.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<Trials.BackgroundWork>();
            return new Trials.BackgroundWork((what, e) => logger.LogError(e, "{What} failed", what));
        });
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Hosting.BackgroundWorkDrain>();
        silo.Services.AddSingleton<Hosting.StudySpecCache>();
        silo.Services.AddSingleton<Hosting.ExecutorSelector>();
        silo.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILogger<Tuning.Trials.Caching.StepCache>>();
            return new Tuning.Trials.Caching.StepCache(
                services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.TunerOptions>>().Value.CacheDirectory,
                change => logger.LogWarning("{Change}", change));
        });
        silo.Services.AddSingleton<Tuning.Trials.Caching.IStepRunGate, Grains.GrainStepRunGate>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Hosting.LeftoverSweep>();
        silo.Services.AddSingleton<Studies.StudyService>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Hosting.StudyResumer>();
        if (redis is not null)
        {
            // Orleans' own binary serializer, as the SQLite store uses: the records' serializers are generated for it.
            silo.AddRedisGrainStorage(TuningStorage.Name, options => options.Configure<Serializer>((o, serializer) =>
            {
                o.ConfigurationOptions = RedisOptions(redis);
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
            silo.UseRedisReminderService(o => o.ConfigurationOptions = RedisOptions(redis));
            return silo;
        }
        var database = new Hosting.TunerOptions { DataDirectory = dataDirectory }.DatabasePath;
        silo.Services.AddGrainStorage(TuningStorage.Name,
            (services, _) => new SqliteGrainStorage(database, services.GetRequiredService<Serializer>()));
        silo.UseInMemoryReminderService();
        return silo;
    }

    /// <summary>
    /// One silo of a cluster whose membership, grain state and reminders live in Redis: silos started on several
    /// machines (or ports) with the same <paramref name="redis"/> and a shared <paramref name="dataDirectory"/> form one
    /// tuner. A Redis that goes away for a while is waited for (the connection retries), not a reason to stop.
    /// </summary>
    /// <param name="advertise">The address other silos reach this one at.</param>
    public static ISiloBuilder UseCluster(this ISiloBuilder silo, string redis, string dataDirectory, string advertise, int siloPort, int gatewayPort, GpuSlots? gpus = null)
    {
        silo.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(redis));
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = "tuning";
            o.ServiceId = "tuning";
        });
        silo.ConfigureEndpoints(IPAddress.Parse(advertise), siloPort, gatewayPort, listenOnAnyHostAddress: advertise != "127.0.0.1");
        // How fast a silo killed outright is declared dead (default: Orleans' own, tens of seconds).
        if (SecondsFromEnvironment(ProbeTimeoutVariable) is { } probeTimeout)
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = probeTimeout;
                o.NumMissedProbesLimit = 2;
                o.TableRefreshTimeout = probeTimeout;
                o.IAmAliveTablePublishTimeout = probeTimeout;
            });
        return silo.AddTuning(dataDirectory, gpus, resumeStudies: true, redis);
    }

    /// <summary>A positive number of seconds an environment variable gives; null where it is unset or not one.</summary>
    private static TimeSpan? SecondsFromEnvironment(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { } text
            && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : null;

    /// <summary>Seconds a probe of another silo may take before it counts as missed: short in tests that kill silos.</summary>
    public const string ProbeTimeoutVariable = "TUNER_PROBE_TIMEOUT_SECONDS";

    /// <summary>Why <paramref name="redis"/> is not an address of a Redis server (<c>redis://HOST:PORT</c>), or null.</summary>
    public static string? RedisAddressProblem(string redis) =>
        System.Text.RegularExpressions.Regex.IsMatch(redis, @"^(redis://)?[A-Za-z0-9._\-]+:\d{1,5}/?$")
            ? null
            : $"'{redis}' is not a Redis address; write it like redis://127.0.0.1:6379";

    /// <summary>Why the Redis server at <paramref name="redis"/> cannot be reached now (tried for 5 s), or null.</summary>
    public static async Task<string?> RedisUnreachable(string redis)
    {
        var options = RedisOptions(redis);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        try
        {
            await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(options);
            return null;
        }
        catch (StackExchange.Redis.RedisConnectionException e)
        {
            return $"cannot reach Redis at {string.Join(", ", options.EndPoints)} ({e.FailureType}); is redis-server running there?";
        }
    }

    /// <summary>
    /// <c>redis://HOST:PORT</c> or <c>HOST:PORT</c> as a connection: retried for ever rather than failing when Redis
    /// is away, so silos wait through its restart.
    /// </summary>
    public static StackExchange.Redis.ConfigurationOptions RedisOptions(string redis)
    {
        var options = StackExchange.Redis.ConfigurationOptions.Parse(redis.StartsWith("redis://", StringComparison.Ordinal) ? redis["redis://".Length..].TrimEnd('/') : redis);
        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>
    /// A host with one silo on this machine and the SQLite store: what <c>tuner run</c> uses. Its ports are free
    /// ones picked now, because Orleans binds with address reuse and two silos on one fixed port would cross-wire.
    /// </summary>
    public static IHost BuildEmbeddedHost(string dataDirectory, GpuSlots? gpus = null, LogLevel logLevel = LogLevel.Warning)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel);
        // Orleans' start-up notes (GC mode, watchdog on a busy start) are noise on a command line; its errors are not.
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        // Orleans' call retries warn of every call that meets a silo shutting down (Ctrl-C mid-study): noise too.
        builder.Logging.AddFilter("Polly", LogLevel.Error);
        builder.UseOrleans(silo => silo.UseEmbedded(dataDirectory, gpus));
        return builder.Build();
    }

    /// <summary>One silo on this machine, on free ports, with the tuning grains and the SQLite store: <c>tuner run</c>'s and <c>tuner serve</c>'s.</summary>
    /// <param name="resumeStudies">Start again, once up, every study that was running when the last process ended (a server).</param>
    /// <remarks>
    /// Its cluster is this silo alone, so a cache key's turns are kept here rather than by the key's grain, which would
    /// be on this same silo: no grain to activate and deactivate for every key a trial computes (2,000 trivial trials,
    /// each a miss: 3.5 s in process against 3.8-4.1 s).
    /// </remarks>
    public static ISiloBuilder UseEmbedded(this ISiloBuilder silo, string dataDirectory, GpuSlots? gpus = null, bool resumeStudies = false)
    {
        silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort(), serviceId: "tuning", clusterId: "embedded-" + Environment.ProcessId)
            .AddTuning(dataDirectory, gpus, resumeStudies);
        silo.Services.Replace(ServiceDescriptor.Singleton<Tuning.Trials.Caching.IStepRunGate>(services =>
            new Tuning.Trials.Caching.LocalStepRunGate(services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping)));
        return silo;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
