using Orleans.TestingHost;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

/// <summary>Configures each test silo with the tuning services and the SQLite store in the test's data folder.</summary>
public sealed class TuningSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder silo) =>
        silo.AddTuning(silo.Configuration["DataDirectory"]!, resumeStudies: silo.Configuration["ResumeStudies"] == "true");
}

/// <summary>A real Orleans cluster (TestingHost, free ports) over a real SQLite file in a temporary folder.</summary>
public sealed class TuningCluster : IAsyncDisposable
{
    private TuningCluster(TestCluster cluster, string dataDirectory)
    {
        Cluster = cluster;
        DataDirectory = dataDirectory;
    }

    public TestCluster Cluster { get; }

    public string DataDirectory { get; }

    public IGrainFactory Grains => Cluster.GrainFactory;

    /// <summary>The study service over this cluster's grains (a client's view: it lends no GPUs).</summary>
    public Studies.StudyService Studies => new(Grains, new Hosting.ExecutorSelector(Trials.Execution.GpuSlots.None));

    public static async Task<TuningCluster> StartAsync(string dataDirectory, short silos = 1, bool resumeStudies = false)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Properties["DataDirectory"] = dataDirectory;
        builder.Properties["ResumeStudies"] = resumeStudies ? "true" : "false";
        builder.AddSiloBuilderConfigurator<TuningSiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new TuningCluster(cluster, dataDirectory);
    }

    /// <summary>Writes a study file into the data folder and creates and starts the study.</summary>
    public async Task<IStudyGrain> StartStudyAsync(string yaml, int seed = 1)
    {
        var study = Grains.GetGrain<IStudyGrain>(Guid.NewGuid());
        await study.Create(new StudySource(yaml, DataDirectory), seed);
        await study.Start();
        return study;
    }

    public static async Task<StudySnapshot> WaitForEndAsync(IStudyGrain study, double seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var snapshot = await study.GetSnapshot();
            if (snapshot.Status.IsTerminal()) return snapshot;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"study still {snapshot.Status} after {seconds} s: {snapshot}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; a TimeoutException after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the condition did not hold within {seconds} s");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public static string Study(string steps, string budget, string parameters = "- {name: x, type: double, min: 0, max: 10}",
        string algorithm = "random", string objective = "{metric: objective, goal: minimize}") => $"""
        name: cluster-test
        objective: {objective}
        algorithm: {"{"}name: {algorithm}{"}"}
        budget: {budget}
        parameters:
          {parameters}
        trial:
          steps:
            - name: s
              command: {steps}
        """;
}
