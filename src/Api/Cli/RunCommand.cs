using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Tuning.Api.Reports;
using Tuning.Trials.Execution;
using Tuning.Trials.Notebooks;
using Tuning.Trials.Studies;
using Tuning.Tuner;
using Tuning.Tuner.Hosting;
using Tuning.Tuner.Grains;
using Tuning.Tuner.Studies;

namespace Tuning.Api.Cli;

/// <summary>
/// <c>tuner run STUDY [--out DIR] [--data DIR]</c>: runs a study in this process on an embedded silo and store,
/// resuming an unfinished study of the same name and spec, and writes DIR/study.json and the plots.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("STUDY") { Description = "The study file (YAML or JSON)" };
        var output = new Option<string?>("--out") { Description = "Where study.json and the plots go (default: ./NAME, the study's name)" };
        var data = CommonOptions.Data();
        var executor = CommonOptions.KatibExecutor();
        var command = new Command("run", """
            Run a study here: one embedded silo, state in tuner.db under --data, no servers. Shows progress, prints the
            best trial and writes study.json and the plots. If the data folder holds an unfinished study with the
            same name and file, it resumes it. Exit codes: 0 the study succeeded, 2 the study file is invalid, 1 otherwise.
            A Katib Experiment (kubeflow.org/v1beta1) runs as it is, on the local executor unless --executor says otherwise.
            """) { file, output, data, executor };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(file)!, parse.GetValue(output), parse.GetValue(data)!, parse.GetValue(executor)));
        return command;
    }

    private static async Task<int> RunAsync(string file, string? output, string dataOption, string? executor)
    {
        StudySpec spec;
        string text;
        try
        {
            (spec, text) = NotebookStudy.IsNotebook(file) ? NotebookStudy.Load(file) : StudyFile.Load(file, executor);
        }
        catch (StudyFileException e)
        {
            CommonOptions.PrintInvalid(file, e);
            return 2;
        }
        if (spec.Trial.External is not null)
        {
            // Its trials are asked for by clients over HTTP: in this process nobody could, and the run would wait forever.
            Console.Error.WriteLine($"{file}: trial.external: a study run by clients needs a server; submit it to `tuner serve` (tuner submit {file})");
            return 2;
        }

        var source = new StudySource(text, spec.StudyDirectory);
        var outDirectory = Path.GetFullPath(output ?? spec.Name);
        var data = Path.GetFullPath(dataOption);

        using var dataLock = CommonOptions.LockDataDirectory(data);
        if (dataLock is null)
        {
            Console.Error.WriteLine(CommonOptions.InUse(data));
            return 1;
        }
        // Ctrl-C or SIGTERM: stop watching and stop the silo, whose stop ends the running steps' processes. The
        // study is not stopped: it stays unfinished, its running trials run again when the same command resumes it.
        using var interrupted = new CancellationTokenSource();
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        void Interrupt(PosixSignalContext signal)
        {
            signal.Cancel = true;
            interrupted.Cancel();
        }

        using var host = TuningSilo.BuildEmbeddedHost(data);
        await host.StartAsync();
        try
        {
            StartedStudy startedStudy;
            try
            {
                startedStudy = await host.Services.GetRequiredService<StudyService>().StartOrResumeAsync(spec, source);
            }
            catch (StudyFileException e)
            {
                // What this machine cannot run (an executor it lacks, more GPUs than it lends), refused before any trial.
                Console.Error.WriteLine($"tuner: {e.Errors[0].Message}");
                return 1;
            }
            var (study, started, resumed) = startedStudy;
            Console.WriteLine(resumed
                ? $"Resuming study {spec.Name} ({started.Id:N}): {started.Done} of {started.MaxTrials} trials done."
                : $"Study {spec.Name} ({started.Id:N}): {spec.Algorithm.Name} search, {spec.Budget.MaxTrials} trials, {spec.Budget.ParallelTrials} at a time.");
            // study.json is kept current while the study runs (learning curves included), not only written at its end.
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(interrupted.Token);
            var reporting = WriteWhileRunningAsync(study, Path.Combine(outDirectory, "study.json"), watching.Token);
            StudySnapshot snapshot;
            try
            {
                snapshot = await Watch(study, started, interrupted.Token);
            }
            finally
            {
                watching.Cancel();
                await reporting;
            }
            var trials = await study.GetTrials();
            var recommending = study.GetRecommendation();
            var plots = await StudyReports.WriteAsync(outDirectory, snapshot, trials, spec, recommending);
            var recommended = await recommending;
            WriteTrialNotebooks(host.Services.GetRequiredService<IOptions<TunerOptions>>().Value.RunsDirectory, snapshot.Id, trials, spec, outDirectory);
            PrintSummary(snapshot, spec, trials, recommended, Path.Combine(outDirectory, "study.json"), plots.Count);
            return snapshot.Status == StudyStatus.Succeeded ? 0 : 1;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine($"Interrupted: study {spec.Name} stays unfinished and its running steps are ended; run the same command to resume it.");
            return 130;
        }
        finally
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await host.StopAsync(stopping.Token);
        }
    }

    /// <summary>
    /// Each trial's executed notebook, its failing cell's traceback included, as OUT/trials/N.ipynb: where the study runs
    /// a notebook (given to tuner run, or named by the study file's trial.notebook), whose steps leave them.
    /// </summary>
    private static void WriteTrialNotebooks(string runs, Guid study, IReadOnlyList<TrialRecord> trials, StudySpec spec, string outDirectory)
    {
        var folder = Path.Combine(outDirectory, "trials");
        foreach (var trial in trials)
        {
            var trialDirectory = Path.Combine(runs, study.ToString("N"), trial.Number.ToString(CultureInfo.InvariantCulture));
            if (NotebookStudy.TrialNotebook(trialDirectory, spec.Trial.Steps.Select(s => s.Name)) is not { } notebook) continue;
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{trial.Number}.ipynb"), notebook);
        }
    }

    /// <summary>How often study.json is written while the study runs.</summary>
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(2);

    private static async Task WriteWhileRunningAsync(IStudyGrain study, string path, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ReportEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    var (snapshot, trials, recommended) = (await study.GetSnapshot(), await study.GetTrials(), await study.GetRecommendation());
                    StudyJson.WriteFile(path, snapshot, trials, recommended?.Trial);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
                {
                    // A report missed while the study runs is written at the next tick, and at the end in any case.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Polls the study until it ends, showing progress: a live table on a terminal, a line a second otherwise.</summary>
    private static async Task<StudySnapshot> Watch(IStudyGrain study, StudySnapshot snapshot, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Live(new Markup(Markup.Escape(ProgressLine(snapshot, clock.Elapsed)))).StartAsync(async live =>
            {
                while (!snapshot.Status.IsTerminal())
                {
                    await Task.Delay(200, cancellation);
                    snapshot = await study.GetSnapshot();
                    live.UpdateTarget(Render(snapshot, clock.Elapsed));
                }
            });
            return snapshot;
        }

        TimeSpan? lastPrinted = null;
        var lastDone = -1;
        while (true)
        {
            var done = snapshot.Done;
            var ended = snapshot.Status.IsTerminal();
            if (ended || (done != lastDone && (lastPrinted is null || clock.Elapsed - lastPrinted >= TimeSpan.FromSeconds(1))))
            {
                Console.WriteLine(ProgressLine(snapshot, clock.Elapsed));
                lastPrinted = clock.Elapsed;
                lastDone = done;
            }
            if (ended) return snapshot;
            await Task.Delay(100, cancellation);
            snapshot = await study.GetSnapshot();
        }
    }

    private static Table Render(StudySnapshot s, TimeSpan elapsed)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(s.Name)}[/] {s.Status}{Markup.Escape(s.Extras)}");
        table.AddColumns("done", "running", "failed", $"best {Markup.Escape(s.Metric)}", "elapsed");
        table.AddRow(
            $"{s.Done}/{s.MaxTrials}",
            s.Running.ToString(CultureInfo.InvariantCulture),
            s.Failed.ToString(CultureInfo.InvariantCulture),
            s.Best is { } best ? $"{Format(best.Metrics[s.Metric])} (trial {best.Number})" : "-",
            $"{elapsed.TotalSeconds:F1} s");
        return table;
    }

    private static string ProgressLine(StudySnapshot s, TimeSpan elapsed) =>
        $"[{elapsed.TotalSeconds,7:F1} s] {s.Status}: {s.Done}/{s.MaxTrials} done, {s.Running} running, {s.Failed} failed{s.Extras}" +
        (s.Best is { } best ? $", best {s.Metric}={Format(best.Metrics[s.Metric])} (trial {best.Number})" : "");

    private static void PrintSummary(StudySnapshot s, StudySpec spec, IReadOnlyList<TrialRecord> trials, RecommendedTrial? recommended, string report, int plots)
    {
        Console.WriteLine($"Study {s.Name} {s.Status}: {s.Reason}.");
        if (s.Pareto is { Trials.Length: > 0 } front) PrintFront(front, spec);
        else if (s.Pareto is { Infeasible.Length: > 0 } none)
            Console.WriteLine($"No trial is feasible: {none.Infeasible.Length} succeeded and broke a constraint.");
        else if (s.Best is { } best)
        {
            Console.WriteLine($"Best trial {best.Number}: {s.Metric}={Format(best.Metrics[s.Metric])}");
            foreach (var (name, value) in best.Parameters) Console.WriteLine($"  {name} = {value}");
            // With a noiseless metric the model agrees with the best observed value; said only where it does not, and
            // only where the model learnt something (else its recommendation is the best observed trial anyway).
            if (recommended is { ModelLearnt: true, Trial: var model } && model.Number != best.Number)
                Console.WriteLine($"Recommended trial {model.Number}: {s.Metric}={Format(model.Metrics[s.Metric])} " +
                                  "(the model's best; the best observed value may be a lucky draw)");
        }
        else
        {
            Console.WriteLine("No trial succeeded.");
            // Why, without opening study.json: the first failure, which usually is every trial's.
            if (trials.OrderBy(t => t.Number).FirstOrDefault(t => t.Status == TrialStatus.Failed && t.Error is not null) is { } failed)
                Console.WriteLine($"Trial {failed.Number} failed: {failed.Error}");
        }
        Console.WriteLine($"Wrote {report} and {plots} plots beside it");
    }

    /// <summary>The front, best first by the first objective, each trial with its objectives and parameters, and its hypervolume.</summary>
    private static void PrintFront(ParetoFront front, StudySpec spec)
    {
        string Values(IReadOnlyList<double> values) => string.Join(", ", spec.Objectives.Select((o, k) => $"{o.Metric}={Format(values[k])}"));
        var derived = front.ReferenceDerived.Any(d => d) ? ", derived from the trials" : "";
        Console.WriteLine($"Pareto front: {front.Trials.Length} trial{(front.Trials.Length == 1 ? "" : "s")}, hypervolume {Format(front.Hypervolume)} " +
                          $"against ({Values(front.Reference)}{derived})");
        foreach (var trial in front.Trials)
            Console.WriteLine($"  trial {trial.Number}: {Values(spec.Objectives.Select(o => trial.Metrics[o.Metric]).ToArray())}; " +
                              string.Join(", ", trial.Parameters.Select(p => $"{p.Key} = {p.Value}")));
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
