using System.ComponentModel;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Tuning.Trials.Execution;

/// <summary>
/// A step's process: started with <c>posix_spawn</c> as the leader of a new session and process group (no
/// <c>setsid</c> program in between, one exec instead of two), standard input from <c>/dev/null</c>, standard output
/// and error into pipes this process reads. Its exit status is collected by a <c>waitpid</c> of its own, not by
/// <see cref="System.Diagnostics.Process"/>, which reaps only the children it started.
/// </summary>
public sealed unsafe partial class StepProcess : IDisposable
{
    private const int OCloexec = 0x80000;
    private const int ORdonly = 0;
    private const short SpawnSetSignalDefaults = 0x04;
    private const short SpawnSetSignalMask = 0x08;
    private const short SpawnSetSid = 0x80;

    // glibc's posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80 and sigset_t 128: room to spare.
    private const int OpaqueSize = 1024;

    private readonly Task<int?> exit;

    private StepProcess(int id, ulong startedAt, int outputFd, int errorFd)
    {
        Id = id;
        StartedAt = startedAt;
        // The group is read while the leader is our unreaped child, so /proc still has it even if it exited at once.
        Group = StepProcesses.GroupOf(id) ?? new StepProcesses.Group(id, startedAt);
        StandardOutput = Reader(outputFd);
        StandardError = Reader(errorFd);
        // A thread of its own blocks in waitpid: a step may run for days, which must not hold a pool thread.
        exit = Task.Factory.StartNew(() => Reap(id), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int Id { get; }

    /// <summary>The group the step leads, as recorded for a later run.</summary>
    public StepProcesses.Group Group { get; }

    /// <summary>When it was started, by this process's clock in clock ticks since boot, taken just before the spawn.</summary>
    public ulong StartedAt { get; }

    public StreamReader StandardOutput { get; }

    public StreamReader StandardError { get; }

    /// <summary>
    /// The exit code once the leader has exited and been reaped: its code, or 128 + the signal that ended it (as
    /// <see cref="System.Diagnostics.Process.ExitCode"/> says it); null where another wait took it first (the
    /// runtime reaps every child when this process is PID 1).
    /// </summary>
    public Task<int?> Exited => exit;

    /// <summary>
    /// Starts <paramref name="program"/> (a path) with the arguments and exactly the environment given, in
    /// <paramref name="workingDirectory"/>. Throws <see cref="Win32Exception"/> where it cannot be started.
    /// </summary>
    public static StepProcess Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var output = Pipe();
        int[] error;
        try
        {
            error = Pipe();
        }
        catch
        {
            Close(output);
            throw;
        }
        var argv = new[] { program }.Concat(arguments).ToArray();
        var envp = environment.Select(e => e.Key + "=" + e.Value).ToArray();
        int pid;
        ulong startedAt;
        try
        {
            pid = StepProcesses.StartLeader(() => Spawn(program, argv, envp, workingDirectory, output[1], error[1]), out startedAt);
        }
        catch
        {
            Close(output);
            Close(error);
            throw;
        }
        // Only the child writes: our copies of the write ends would keep the pipes open after it exits.
        close(output[1]);
        close(error[1]);
        return new StepProcess(pid, startedAt, output[0], error[0]);
    }

    private static int Spawn(string program, string[] argv, string[] envp, string workingDirectory, int outputFd, int errorFd)
    {
        var actions = NativeMemory.AllocZeroed(OpaqueSize);
        var attributes = NativeMemory.AllocZeroed(OpaqueSize);
        var signals = NativeMemory.AllocZeroed(OpaqueSize);
        var nativeArgv = Strings(argv);
        var nativeEnvp = Strings(envp);
        try
        {
            posix_spawn_file_actions_init(actions);
            posix_spawnattr_init(attributes);
            Check(posix_spawn_file_actions_addopen(actions, 0, "/dev/null", ORdonly, 0), "/dev/null");
            Check(posix_spawn_file_actions_adddup2(actions, outputFd, 1), program);
            Check(posix_spawn_file_actions_adddup2(actions, errorFd, 2), program);
            Check(posix_spawn_file_actions_addchdir_np(actions, workingDirectory), workingDirectory);
            // The runtime ignores SIGPIPE and handles others; an ignored signal stays ignored across exec, so every
            // signal goes back to its default, and none is blocked, as a shell would start the step.
            sigfillset(signals);
            posix_spawnattr_setsigdefault(attributes, signals);
            sigemptyset(signals);
            posix_spawnattr_setsigmask(attributes, signals);
            posix_spawnattr_setflags(attributes, SpawnSetSid | SpawnSetSignalDefaults | SpawnSetSignalMask);
            int pid;
            Check(posix_spawn(&pid, program, actions, attributes, nativeArgv, nativeEnvp), program);
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(actions);
            posix_spawnattr_destroy(attributes);
            Free(nativeArgv, argv.Length);
            Free(nativeEnvp, envp.Length);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
        }
    }

    private static void Check(int error, string what)
    {
        if (error != 0) throw new Win32Exception(error, $"{Marshal.GetPInvokeErrorMessage(error)} ({what})");
    }

    /// <summary>A pipe whose two ends close on exec: the child gets only the copies placed at 1 and 2.</summary>
    private static int[] Pipe()
    {
        var ends = new int[2];
        fixed (int* p = ends)
            if (pipe2(p, OCloexec) != 0)
                throw new Win32Exception(Marshal.GetLastPInvokeError());
        return ends;
    }

    private static void Close(int[] ends)
    {
        foreach (var end in ends) close(end);
    }

    /// <summary>A pipe's read end as a stream the runtime reads asynchronously (a pipe stream polls, it holds no thread).</summary>
    private static StreamReader Reader(int fd) =>
        new(new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(fd, ownsHandle: true)), Encoding.UTF8);

    private static byte** Strings(string[] strings)
    {
        var array = (byte**)NativeMemory.AllocZeroed((nuint)(strings.Length + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < strings.Length; i++) array[i] = (byte*)Marshal.StringToCoTaskMemUTF8(strings[i]);
        return array;
    }

    private static void Free(byte** array, int length)
    {
        for (var i = 0; i < length; i++) Marshal.FreeCoTaskMem((IntPtr)array[i]);
        NativeMemory.Free(array);
    }

    /// <summary>Waits for the leader to exit and reaps it; null where another waiter took its status first.</summary>
    private static int? Reap(int pid)
    {
        int status;
        int result;
        const int eintr = 4;
        while ((result = waitpid(pid, &status, 0)) == -1 && Marshal.GetLastPInvokeError() == eintr)
        {
        }
        StepProcesses.LeaderReaped(pid);
        if (result != pid) return null;
        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    public void Dispose()
    {
        StandardOutput.Dispose();
        StandardError.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn(int* pid, string path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn_file_actions_addopen(void* actions, int fd, string path, int flags, int mode);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn_file_actions_addchdir_np(void* actions, string path);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigdefault(void* attributes, void* signals);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigmask(void* attributes, void* signals);

    [LibraryImport("libc")]
    private static partial int sigfillset(void* signals);

    [LibraryImport("libc")]
    private static partial int sigemptyset(void* signals);
}
