using System.Diagnostics;

namespace Tuning.Trials.Execution;

/// <summary>
/// The GPUs of this machine, lent to steps that ask for them (<c>resources: {gpu: N}</c>). A fraction shares one GPU
/// (<c>0.25</c>: four such steps at once on a device, a fifth waits); a whole number takes that many GPUs to itself.
/// A step that finds too little free waits for it. Steps see only their GPUs, through <c>CUDA_VISIBLE_DEVICES</c>.
/// </summary>
public sealed class GpuSlots
{
    public const string Variable = "TUNER_GPUS";

    private readonly SharedDevices _devices;

    public GpuSlots(IEnumerable<string> ids) => _devices = new SharedDevices(ids);

    public static readonly GpuSlots None = new([]);

    public IReadOnlyList<string> Ids => _devices.Ids;

    public int Count => Ids.Count;

    /// <summary>How much of each GPU is free now, 0 to 1, in <see cref="Ids"/> order.</summary>
    public IReadOnlyList<double> Free => _devices.Free.Select(shares => shares / (double)SharedDevices.Whole).ToArray();

    /// <summary>The whole GPUs a request occupies at least: a fraction needs one device.</summary>
    public static int DevicesNeeded(double gpu) => (int)Math.Ceiling(gpu);

    /// <summary>
    /// Why step <paramref name="stepName"/>, asking for <paramref name="gpu"/>, can never run here, or null: the one
    /// wording of the study's check before it runs and the executor's before a step starts.
    /// </summary>
    public string? Refusal(string stepName, double gpu)
    {
        if (DevicesNeeded(gpu) <= Count) return null;
        var wanted = gpu < 1 ? $"{gpu.ToString(System.Globalization.CultureInfo.InvariantCulture)} of a GPU" : $"{gpu} GPU{(gpu == 1 ? "" : "s")}";
        return $"step '{stepName}' needs {wanted} and this machine lends {Count} " +
               $"(found through {Variable}, CUDA_VISIBLE_DEVICES or nvidia-smi; set {Variable} to say which to lend)";
    }

    /// <summary>
    /// The GPUs to lend: <c>TUNER_GPUS</c> (a list like <c>0,1</c>, or <c>none</c>), else those that
    /// <c>CUDA_VISIBLE_DEVICES</c> leaves this process, else every GPU <c>nvidia-smi</c> lists, else none.
    /// </summary>
    public static GpuSlots Detect(Func<string, string?>? environment = null, Func<IReadOnlyList<string>>? query = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        query ??= QueryNvidiaSmi;
        if (environment(Variable) is { } listed)
            return listed.Trim() is "" or "none" ? None : new GpuSlots(Split(listed));
        if (environment("CUDA_VISIBLE_DEVICES") is { } visible)
            return new GpuSlots(Split(visible).Where(id => id != "-1"));
        return new GpuSlots(query());
    }

    private static IEnumerable<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IReadOnlyList<string> QueryNvidiaSmi()
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", "--query-gpu=index --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(10_000);
            return process.ExitCode == 0 ? Split(output.Replace('\n', ',')).ToArray() : [];
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return []; // no nvidia-smi: no GPUs to lend
        }
    }

    /// <summary>Waits, in turn, until <paramref name="gpu"/> GPUs (a fraction of one, or whole ones) are free and takes them.</summary>
    public Task<DeviceLease> AcquireAsync(double gpu, CancellationToken cancellation)
    {
        if (DevicesNeeded(gpu) > Count)
            throw new InvalidOperationException($"{gpu} GPUs asked for, {Count} on this machine");
        return gpu <= 1
            ? _devices.AcquireAsync((int)Math.Ceiling(gpu * SharedDevices.Whole - 1e-9), 0, cancellation)
            : _devices.AcquireAsync(0, (int)gpu, cancellation);
    }
}

/// <summary>
/// The cores of this machine, lent to steps that say how many they use (<c>resources: {cpu: 2}</c>), so CPU-bound
/// steps of parallel trials do not oversubscribe the machine. A step that asks for more than the machine has takes
/// all of it; a step that says nothing takes nothing and is not limited.
/// </summary>
public sealed class CpuSlots(int cores)
{
    private readonly SharedDevices _cores = new(["cpu"], Math.Max(1, cores) * SharedDevices.Whole);

    public static CpuSlots Machine() => new(Environment.ProcessorCount);

    public Task<DeviceLease> AcquireAsync(double cpu, CancellationToken cancellation) =>
        _cores.AcquireAsync((int)Math.Min(Math.Ceiling(cpu * SharedDevices.Whole - 1e-9), _cores.SharesEach), 0, cancellation);
}
