using System.Diagnostics;
using System.Globalization;

namespace Tuning.Load;

/// <summary>
/// A process this program started (a tuner silo, redis-server): its output goes to a log file, its resident memory
/// is sampled from /proc and its CPU time read from there. Stopped with SIGTERM, then killed with its descendants.
/// </summary>
public sealed class Child : IAsyncDisposable
{
    private readonly StreamWriter log;
    private readonly object gate = new();
    private long peakRssKb;
    private bool closed;

    public string Name { get; }

    public Process Process { get; }

    public string LogPath { get; }

    public long LastRssKb { get; private set; }

    /// <summary>The resident memory at the end of the load (sampled once every study ended or the run was cut).</summary>
    public long FinalRssKb { get; private set; }

    public long PeakRssKb => Interlocked.Read(ref peakRssKb);

    private Child(string name, Process process, string logPath, StreamWriter log)
    {
        Name = name;
        Process = process;
        LogPath = logPath;
        this.log = log;
    }

    public static Child Start(string name, string file, IEnumerable<string> arguments, string workingDirectory, string logPath,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var child = new Child(name, process, logPath, log);
        process.OutputDataReceived += (_, e) => child.Write(e.Data);
        process.ErrorDataReceived += (_, e) => child.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Write(string? line)
    {
        if (line is null) return;
        lock (gate)
            if (!closed) log.WriteLine(line);
    }

    public string LogTail(int lines = 30)
    {
        lock (gate)
        {
            log.Flush();
            try
            {
                using var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                var text = new StreamReader(reader).ReadToEnd().Split('\n');
                return string.Join('\n', text.TakeLast(lines));
            }
            catch (IOException e)
            {
                return $"(cannot read {LogPath}: {e.Message})";
            }
        }
    }

    /// <summary>Reads VmRSS from /proc/PID/status; keeps the peak.</summary>
    public void Sample()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                LastRssKb = kb;
                long peak;
                while (kb > (peak = Interlocked.Read(ref peakRssKb)) && Interlocked.CompareExchange(ref peakRssKb, kb, peak) != peak)
                {
                }
                return;
            }
        }
        catch (IOException)
        {
            // The process has exited.
        }
    }

    public void MarkFinal()
    {
        Sample();
        FinalRssKb = LastRssKb;
    }

    /// <summary>
    /// CPU seconds from /proc/PID/stat: the process's own (user + system), and that of its children it has waited
    /// for (the trials' step processes, for a tuner).
    /// </summary>
    public (double Own, double Children) CpuSeconds()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Process.Id}/stat");
            // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            double Ticks(int field) => double.Parse(fields[field - 3], CultureInfo.InvariantCulture) / 100.0; // USER_HZ
            return (Ticks(14) + Ticks(15), Ticks(16) + Ticks(17));
        }
        catch (IOException)
        {
            return (double.NaN, double.NaN);
        }
    }

    /// <summary>SIGTERM (a tuner ends its step processes and stops its silo), then SIGKILL to it and its descendants.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Process.HasExited) return;
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            if (kill is not null) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(grace);
            await Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Write($"load: {Name} did not stop within {grace.TotalSeconds:F0} s of SIGTERM; killed");
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        Process.Dispose();
        lock (gate)
        {
            closed = true;
            log.Dispose();
        }
    }
}
