using System.Diagnostics;

namespace Tuning.Api.Tests;

/// <summary>
/// The Python client's own tests (clients/python/tests, unittest) against a real server, so CI counts them: run from
/// the client's folder, as a user of the folder runs it, with TUNER_SERVER naming this server.
/// </summary>
public sealed class PythonClientTests
{
    [Fact]
    public async Task The_python_client_tests_pass_against_a_real_server()
    {
        await using var server = await Server.StartAsync();
        var start = new ProcessStartInfo("python3", "-m unittest discover -v -s tests -t .")
        {
            WorkingDirectory = Path.Combine(Tuner.RepositoryRoot, "clients", "python"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["TUNER_SERVER"] = server.Url;
        start.Environment["TUNER_WORKDIR"] = server.Folder;
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var python = Process.Start(start)!;
        var output = python.StandardOutput.ReadToEndAsync();
        var error = python.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await python.WaitForExitAsync(timeout.Token);
        Assert.True(python.ExitCode == 0, $"python3 -m unittest exited {python.ExitCode}\n{await output}\n{await error}");
        // Every test ran: none was skipped for want of the server.
        Assert.DoesNotContain("skipped", await error);
        Directory.Delete(server.Folder, recursive: true);
    }
}
