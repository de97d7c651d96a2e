using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Hosting;
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
    /// <summary>Adds the tuning grains' services and the embedded SQLite store under <paramref name="dataDirectory"/>.</summary>
    /// <param name="gpus">The GPUs to lend to steps; detected on this machine where not given.</param>
    /// <param name="resumeStudies">Start again, once up, every study that was running when the last process ended (a server).</param>
    public static ISiloBuilder AddTuning(this ISiloBuilder silo, string dataDirectory, GpuSlots? gpus = null, bool resumeStudies = false)
    {
        // The data folder holds every study file, log and result: made private to this user before anything writes there.
        Trials.PrivateFiles.Folder(dataDirectory);
        silo.Services.AddSingleton(_ => gpus ?? GpuSlots.Detect());
        silo.Services.Configure<Hosting.TunerOptions>(o =>
        {
            o.DataDirectory = dataDirectory;
            o.ResumeStudiesOnStart = resumeStudies;
        });
        silo.Services.AddSingleton<Hosting.StudySpecCache>();
        silo.Services.AddSingleton<Hosting.ExecutorSelector>();
        silo.Services.AddSingleton(services => new Tuning.Trials.Caching.StepCache(
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.TunerOptions>>().Value.CacheDirectory));
        silo.Services.AddSingleton<Tuning.Trials.Caching.IStepRunGate, Grains.GrainStepRunGate>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Hosting.LeftoverSweep>();
        silo.Services.AddSingleton<Studies.StudyService>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Hosting.StudyResumer>();
        var database = new Hosting.TunerOptions { DataDirectory = dataDirectory }.DatabasePath;
        silo.Services.AddGrainStorage(TuningStorage.Name,
            (services, _) => new SqliteGrainStorage(database, services.GetRequiredService<Serializer>()));
        return silo;
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
    public static ISiloBuilder UseEmbedded(this ISiloBuilder silo, string dataDirectory, GpuSlots? gpus = null, bool resumeStudies = false) =>
        silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort(), serviceId: "tuning", clusterId: "embedded-" + Environment.ProcessId)
            .AddTuning(dataDirectory, gpus, resumeStudies);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
