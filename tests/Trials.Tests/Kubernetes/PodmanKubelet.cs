using System.Diagnostics;
using Tuning.Tests.Shared;

namespace Tuning.Trials.Tests.Kubernetes;

/// <summary>
/// A kubelet for <see cref="FakeKubernetesApi"/> that really runs each pod, as podman would run it on a node: the
/// claim is <paramref name="volumeRoot"/> on this machine, each volume mount its sub-path there, with the pod's
/// image, working folder, environment and command. Its output is the pod's log and its exit code the pod's end,
/// so the Job the executor made is checked by running it, not only by reading it.
/// </summary>
public static class PodmanKubelet
{
    public static Func<FakePod, Task> Over(string volumeRoot) => async pod =>
    {
        var container = pod.Pod.Spec.Containers[0];
        var arguments = new List<string> { "run", "--rm", "--name", pod.Name };
        arguments.AddRange(BusyboxImage.EngineArguments);
        foreach (var mount in container.VolumeMounts)
            arguments.AddRange(["-v", $"{Path.Combine(volumeRoot, mount.SubPath)}:{mount.MountPath}:{(mount.ReadOnlyProperty == true ? "ro" : "rw")}"]);
        foreach (var variable in container.Env ?? []) arguments.AddRange(["-e", $"{variable.Name}={variable.Value}"]);
        // Kubernetes' command replaces the image's entrypoint, its args only the image's command, as in podman.
        if (container.Command is { Count: > 0 } entrypoint) arguments.AddRange(["--entrypoint", entrypoint[0]]);
        arguments.AddRange(["-w", container.WorkingDir, container.Image]);
        if (container.Command is { Count: > 1 } rest) arguments.AddRange(rest.Skip(1));
        arguments.AddRange(container.Args ?? []);

        var start = new ProcessStartInfo(BusyboxImage.Engine, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var engine = Process.Start(start)!;
        pod.Run();
        async Task Copy(StreamReader output)
        {
            while (await output.ReadLineAsync() is { } line) pod.Log(line);
        }
        var logged = Task.WhenAll(Copy(engine.StandardOutput), Copy(engine.StandardError));
        var ended = engine.WaitForExitAsync();
        if (await Task.WhenAny(ended, pod.Gone.Task) != ended)
        {
            // The Job was deleted: the kubelet ends its container.
            await Process.Start(BusyboxImage.Engine, ["rm", "-f", "--time", "0", pod.Name]).WaitForExitAsync();
            return;
        }
        await logged;
        pod.Exit(engine.ExitCode);
    };
}
