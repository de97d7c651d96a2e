using System.Diagnostics;
using Tuning.Trials.Execution;
using Xunit;

namespace Tuning.Tests.Shared;

/// <summary>
/// A busybox image made here from Debian's busybox-static (<c>podman import</c> of a root filesystem; nothing is
/// pulled), built once for the test run.
/// </summary>
public static class BusyboxImage
{
    public const string Name = "localhost/tuning-busybox:test";

    /// <summary>The flags this kind of machine needs (runc; limits it may not raise), unless the environment says otherwise.</summary>
    public static IReadOnlyList<string> EngineArguments { get; } =
        (Environment.GetEnvironmentVariable(ContainerExecutor.ArgumentsVariable) ?? "--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024")
        .Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static readonly Lazy<Task> Built = new(BuildAsync);

    public static Task EnsureAsync() => Built.Value;

    public static string Engine => ContainerExecutor.FindEngine() ?? throw new InvalidOperationException(
        "these tests run real containers: install podman, runc and busybox-static (apt install podman runc busybox-static)");

    private static async Task BuildAsync()
    {
        // The test assemblies run at once, each with its own Lazy: a lock file makes the first build and the others
        // find its image, rather than import it again and move the tag under a running container's feet.
        await using var building = await LockAsync(Path.Combine(Path.GetTempPath(), "tuning-busybox.lock"));
        if (await RunAsync(Engine, "image", "exists", Name) == 0) return;
        var root = Directory.CreateTempSubdirectory("tuning-busybox-").FullName;
        try
        {
            foreach (var folder in new[] { "bin", "tmp", "proc", "dev", "sys", "etc" }) Directory.CreateDirectory(Path.Combine(root, "rootfs", folder));
            File.Copy("/bin/busybox", Path.Combine(root, "rootfs", "bin", "busybox"));
            // Every applet as a relative link, so the links resolve inside the container.
            var list = Process.Start(new ProcessStartInfo("/bin/busybox", "--list") { RedirectStandardOutput = true })!;
            foreach (var applet in (await list.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (applet != "busybox") File.CreateSymbolicLink(Path.Combine(root, "rootfs", "bin", applet), "busybox");
            Assert.Equal(0, await RunAsync("sh", "-c", $"tar -C {root}/rootfs -c . | {Engine} import - {Name}"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(100);
            }
        }
    }

    public static async Task<int> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        await Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>The containers of any state whose label <paramref name="label"/> has <paramref name="value"/>.</summary>
    public static async Task<string[]> ContainersAsync(string label, string value)
    {
        var start = new ProcessStartInfo(Engine) { RedirectStandardOutput = true };
        foreach (var argument in new[] { "ps", "-a", "-q", "--filter", $"label={label}={value}" }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
