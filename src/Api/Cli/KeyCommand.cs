using System.CommandLine;
using Tuning.Api.Service;

namespace Tuning.Api.Cli;

/// <summary><c>tuner key NAMESPACE</c>: a new API key, and the keys-file entry that holds only its hash.</summary>
public static class KeyCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAMESPACE") { Description = "The namespace the key opens" };
        var command = new Command("key", "Make a new API key: give the key to its users, put the hash in the server's --keys file") { name };
        command.SetAction(parse =>
        {
            var key = Namespaces.NewKey();
            Console.WriteLine($"key:    {key}");
            Console.WriteLine($"sha256: {Namespaces.Hash(key)}");
            Console.WriteLine($$"""keys file entry: "{{parse.GetValue(name)}}": {"keys": ["{{Namespaces.Hash(key)}}"], "workdir": "."}""");
            return 0;
        });
        return command;
    }
}
