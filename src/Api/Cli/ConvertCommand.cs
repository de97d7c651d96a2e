using System.CommandLine;
using Tuning.Trials.Studies;

namespace Tuning.Api.Cli;

/// <summary><c>tuner convert EXPERIMENT [--executor E]</c>: prints the study file a Katib Experiment amounts to.</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("EXPERIMENT") { Description = "A Katib Experiment (kubeflow.org/v1beta1, YAML)" };
        var executor = CommonOptions.KatibExecutor();
        var command = new Command("convert", """
            Print the study file a Katib Experiment amounts to (what tuner run runs). Exit 2, with each problem and the
            Katib field it is in, for an Experiment that cannot run here.
            """) { file, executor };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            try
            {
                Console.Write(StudyFile.Load(path, parse.GetValue(executor) ?? Trials.Execution.ExecutorCatalog.Local).Text);
                return 0;
            }
            catch (StudyFileException e)
            {
                CommonOptions.PrintInvalid(path, e);
                return 2;
            }
        });
        return command;
    }
}
