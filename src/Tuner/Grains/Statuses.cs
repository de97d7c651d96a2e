namespace Tuning.Tuner.Grains;

public enum StudyStatus { Created, Running, Succeeded, Failed, Stopped }

public enum TrialStatus { Pending, Running, Succeeded, Failed, EarlyStopped, Cancelled }

public static class StatusExtensions
{
    public static bool IsTerminal(this StudyStatus status) => status is StudyStatus.Succeeded or StudyStatus.Failed or StudyStatus.Stopped;

    public static bool IsTerminal(this TrialStatus status) => status is not (TrialStatus.Pending or TrialStatus.Running);
}
