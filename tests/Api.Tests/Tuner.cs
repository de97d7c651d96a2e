using System.Diagnostics;
using System.Text;

namespace Tuning.Api.Tests;

/// <summary>The built <c>tuner</c> executable, run as a real child process the way a user runs it.</summary>
public static class Tuner
{
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Tuning.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Tuning.sln above " + AppContext.BaseDirectory);
    }

    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, [], args);

    public static Process Start(string workingDirectory, (string Name, string Value)[] environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tuner.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return Process.Start(start)!;
    }

    public static Task<(int Exit, string Out, string Err)> RunAsync(string workingDirectory, params string[] args) =>
        RunAsync(workingDirectory, [], args);

    public static async Task<(int Exit, string Out, string Err)> RunAsync(string workingDirectory, (string Name, string Value)[] environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tuner {string.Join(' ', args)} ran over 3 minutes:\n{await output}\n{await error}");
        }
        return (process.ExitCode, await output, await error);
    }

    /// <summary>A line-by-line view of a running process's standard output.</summary>
    public static StringBuilder Collect(Process process)
    {
        var lines = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (lines) lines.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (lines) lines.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lines;
    }
}
