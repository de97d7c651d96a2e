using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tuning.Trials.Notebooks;
using Tuning.Tuner;
using Tuning.Tuner.Hosting;
using Tuning.Tuner.Studies;

namespace Tuning.Api.Cli;

/// <summary>
/// <c>tuner notebook STUDY TRIAL --step NAME [--out FILE] [--data DIR]</c>: a notebook that replays a step of a trial
/// of a notebook study from the state it started from, what Kale users did with volume snapshots.
/// </summary>
public static class NotebookCommand
{
    public static Command Create()
    {
        var study = new Argument<string>("STUDY") { Description = "The study's name (its latest study of that name) or id" };
        var trial = new Argument<int>("TRIAL") { Description = "The trial's number" };
        var step = new Option<string>("--step") { Description = "The step to replay", Required = true };
        var output = new Option<string?>("--out") { Description = "The notebook to write (default: STUDY-TRIAL-STEP.ipynb)" };
        var data = CommonOptions.Data();
        var command = new Command("notebook", """
            Write a notebook that replays a step of a trial of a notebook study (a failed one too): it loads the
            variables the step started from, saved by the steps before it, assigns the trial's parameters, then holds
            the step's cells, to rerun, fix and inspect in Jupyter.
            """) { study, trial, step, output, data };
        command.SetAction((parse, _) => WriteAsync(parse.GetValue(study)!, parse.GetValue(trial), parse.GetValue(step)!, parse.GetValue(output), parse.GetValue(data)!));
        return command;
    }

    private static async Task<int> WriteAsync(string studyText, int trial, string step, string? output, string dataOption)
    {
        var data = Path.GetFullPath(dataOption);
        if (!File.Exists(Path.Combine(data, "tuner.db")))
        {
            Console.Error.WriteLine($"tuner: no studies in {data}; pass the --data that tuner run used");
            return 1;
        }
        using var dataLock = CommonOptions.LockDataDirectory(data);
        if (dataLock is null)
        {
            Console.Error.WriteLine(CommonOptions.InUse(data));
            return 1;
        }
        using var host = TuningSilo.BuildEmbeddedHost(data);
        await host.StartAsync();
        try
        {
            var studies = await host.Services.GetRequiredService<StudyService>().ListAsync(null);
            var found = studies.FirstOrDefault(s => s.Id.ToString("N") == studyText || s.Id.ToString() == studyText)
                        ?? studies.FirstOrDefault(s => s.Name == studyText);
            if (found is null)
            {
                Console.Error.WriteLine($"tuner: no study named or with id {studyText} in {data}");
                return 1;
            }
            var runs = host.Services.GetRequiredService<IOptions<TunerOptions>>().Value.RunsDirectory;
            var stepDirectory = Path.Combine(runs, found.Id.ToString("N"), trial.ToString(CultureInfo.InvariantCulture), step);
            var title = $"# Step {step} of trial {trial} of study {found.Name}\n\nThe state the step started from (the variables it reads, " +
                        "loaded from what the steps before it saved, and this trial's parameters), then its cells, as the trial ran them.";
            if (NotebookStudy.Replay(stepDirectory, title) is not { } notebook)
            {
                Console.Error.WriteLine($"tuner: trial {trial} of study {found.Name} has no run of a notebook step {step} (it did not start, or the study is not a notebook)");
                return 1;
            }
            var file = Path.GetFullPath(output ?? $"{found.Name}-{trial}-{step}.ipynb");
            await File.WriteAllTextAsync(file, notebook);
            Console.WriteLine($"Wrote {file}");
            return 0;
        }
        finally
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await host.StopAsync(stopping.Token);
        }
    }
}
