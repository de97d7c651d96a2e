using System.CommandLine;
using Tuning.Api.Service;
using Tuning.Trials.Execution;
using Tuning.Tuner;

namespace Tuning.Api.Cli;

/// <summary><c>tuner serve</c>: the HTTP service, the dashboard and the silo in one process.</summary>
public static class ServeCommand
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen, ';'-separated", DefaultValueFactory = _ => DefaultUrls };
        var data = CommonOptions.Data();
        var keys = new Option<string?>("--keys")
        {
            Description = "A JSON file of namespaces with hashed API keys and workdirs (see `tuner key`); without it there is one namespace and loopback only",
        };
        var workdir = new Option<string>("--workdir")
        {
            Description = "Without --keys: the folder submitted studies' files are read from",
            DefaultValueFactory = _ => ".",
        };
        var allowRemote = new Option<bool>("--allow-remote") { Description = "Listen beyond loopback without API keys (anyone who reaches it can run commands)" };
        var cluster = new Option<string?>("--cluster")
        {
            Description = "Join the cluster whose membership, grain state and reminders live in this Redis (redis://HOST:PORT); " +
                "its silos share --data (trial folders, step cache). Without it: one silo, the embedded SQLite store",
        };
        var advertise = new Option<string>("--advertise") { Description = "With --cluster: the IP address other silos reach this one at", DefaultValueFactory = _ => "127.0.0.1" };
        var siloPort = new Option<int>("--silo-port") { Description = "With --cluster: the port silos talk on (default: a free one)" };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "With --cluster: the port clients reach the silo on (default: a free one)" };
        var command = new Command("serve", "Serve the HTTP API, the dashboard and the OpenAPI document; running studies resume on start")
        {
            urls, data, keys, workdir, allowRemote, cluster, advertise, siloPort, gatewayPort,
        };
        command.SetAction((parse, cancellation) => ServeAsync(
            new ServerOptions(parse.GetValue(urls)!, Path.GetFullPath(parse.GetValue(data)!), parse.GetValue(keys),
                Path.GetFullPath(parse.GetValue(workdir)!), parse.GetValue(allowRemote),
                parse.GetValue(cluster) is { } redis ? new ClusterMembership(redis, parse.GetValue(advertise)!, parse.GetValue(siloPort), parse.GetValue(gatewayPort)) : null),
            cancellation));
        return command;
    }

    private static async Task<int> ServeAsync(ServerOptions options, CancellationToken cancellation)
    {
        // A cluster's silos share the data folder (trial folders, the step cache); the embedded store is one silo's alone.
        using var dataLock = options.Cluster is null ? CommonOptions.LockDataDirectory(options.DataDirectory) : null;
        if (options.Cluster is null && dataLock is null)
        {
            Console.Error.WriteLine(CommonOptions.InUse(options.DataDirectory));
            return 1;
        }
        if (options.Cluster is { } cluster)
        {
            if (TuningSilo.RedisAddressProblem(cluster.Redis) is { } malformed)
            {
                Console.Error.WriteLine($"tuner: --cluster: {malformed}");
                return 2;
            }
            if (await TuningSilo.RedisUnreachable(cluster.Redis) is { } unreachable)
            {
                Console.Error.WriteLine($"tuner: --cluster: {unreachable}");
                return 1;
            }
        }
        WebApplication app;
        try
        {
            app = TunerServer.Build(options, GpuSlots.Detect());
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
        {
            Console.Error.WriteLine($"tuner: {e.Message}");
            return 2;
        }
        if (options.AllowRemote && options.KeysFile is null)
            Console.Error.WriteLine("tuner: warning: listening beyond loopback without API keys; anyone who reaches this server can run commands here");
        await using (app)
        {
            await app.StartAsync(cancellation);
            Console.WriteLine($"Serving on {string.Join(", ", app.Urls)}: the dashboard at /, the API at /api/studies, OpenAPI at /openapi/v1.json. Ctrl-C stops.");
            await app.WaitForShutdownAsync(cancellation);
        }
        return 0;
    }
}
