namespace Tuning.Api.Cli;

/// <summary>A verb's arguments: positional values and <c>--name value</c> options, checked against what the verb takes.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    private Arguments(IReadOnlyList<string> positional, bool help)
    {
        Positional = positional;
        Help = help;
    }

    public IReadOnlyList<string> Positional { get; }

    public bool Help { get; }

    public string? Option(string name) => _options.GetValueOrDefault(name);

    /// <summary>Parses <paramref name="args"/>; an option not in <paramref name="options"/> is a <see cref="UsageException"/>.</summary>
    public static Arguments Parse(IReadOnlyList<string> args, params string[] options)
    {
        var positional = new List<string>();
        var help = false;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h") help = true;
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var (name, value) = arg.Contains('=') ? (arg[..arg.IndexOf('=')], arg[(arg.IndexOf('=') + 1)..]) : (arg, null);
                if (!options.Contains(name)) throw new UsageException($"unknown option {name}");
                value ??= i + 1 < args.Count ? args[++i] : throw new UsageException($"{name} needs a value");
                values[name] = value;
            }
            else positional.Add(arg);
        }
        var parsed = new Arguments(positional, help);
        foreach (var (name, value) in values) parsed._options[name] = value;
        return parsed;
    }
}

/// <summary>A command line that does not fit the verb: printed with the verb's usage, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
