using System.Collections.Concurrent;
using Tuning.Trials.Studies;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Hosting;

/// <summary>Where a silo keeps its store and its trial folders.</summary>
public sealed class TunerOptions
{
    /// <summary>The data folder: <c>tuner.db</c>, <c>runs/STUDY/TRIAL/STEP</c> and <c>cache/KEY</c> below it.</summary>
    public string DataDirectory { get; set; } = ".tuner";

    public string RunsDirectory => Path.Combine(Path.GetFullPath(DataDirectory), "runs");

    /// <summary>One trial's folder: its steps' folders (logs, outputs) below it.</summary>
    public string TrialDirectory(Guid study, int number) =>
        Path.Combine(RunsDirectory, study.ToString("N"), number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The step cache: one folder per cache key, shared by every study of this data folder.</summary>
    public string CacheDirectory => Path.Combine(Path.GetFullPath(DataDirectory), "cache");

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDirectory), "tuner.db");

    /// <summary>
    /// Whether the silo starts again, once it is up, every study that was running when the last process ended:
    /// what a server does. <c>tuner run</c> resumes only the study it was asked to run.
    /// </summary>
    public bool ResumeStudiesOnStart { get; set; }

    /// <summary>
    /// How often a running study looks for trials whose silo was lost (and comes back itself if its own silo was):
    /// a reminder's period. <see cref="WatchPeriodVariable"/> sets it in seconds.
    /// </summary>
    public TimeSpan WatchPeriod { get; set; } = TimeSpan.FromSeconds(30);

    public const string WatchPeriodVariable = "TUNER_WATCH_SECONDS";

    /// <summary>When this process started: a silo just started does not yet judge which trials' attempts were lost.</summary>
    public static readonly DateTime ProcessStarted = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>Whether this silo is one of a cluster sharing its data folder: it then leaves other silos' leftovers alone.</summary>
    public bool Clustered { get; set; }
}

/// <summary>
/// Parsed study specs by source, so the many trial grains of a study parse its file once per silo, not once each.
/// </summary>
public sealed class StudySpecCache
{
    private readonly ConcurrentDictionary<StudySource, StudySpec> _specs = new();

    public StudySpec Get(StudySource source) =>
        _specs.GetOrAdd(source, s => StudyFile.Parse(s.Text, s.Directory, readWarmStart: false));
}
