using System.CommandLine;
using FlowOrleans.Cli.Identity;
using FlowOrleans.Cli.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>Options several verbs take, built fresh for each command (a System.CommandLine symbol has one parent).</summary>
internal static class CommonOptions
{
    public static Option<string?> Principal(string description) => new("--principal")
    {
        Description = description,
        HelpName = "DIR",
    };

    public static Option<List<string>> Blessings(string description) => new("--blessing")
    {
        Description = description,
        HelpName = "PATTERN",
        CustomParser = ValueParsers.ParseBlessingPatterns,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>
    /// Loads the principal of <c>--principal</c>, or null without it; an unusable directory, or one without blessings to
    /// present, is <see cref="ExitCode.BadInput"/>.
    /// </summary>
    public static Principal? LoadPrincipal(Verb verb, Option<string?> option)
    {
        var directory = verb.Get(option);
        if (directory is null)
        {
            return null;
        }

        var principal = PrincipalDirectory.Load(option.Name, directory);
        if (principal.DefaultBlessings.IsEmpty)
        {
            // A handshake presents blessings; without any, every peer would refuse this principal.
            principal.Dispose();
            throw new CliFailure(ExitCode.BadInput,
                $"{option.Name} '{directory}' has no blessings to present; expected a principal created with --name, or given blessings with 'flowctl principal install'");
        }

        return principal;
    }
}

/// <summary>The payload options of the dialing verbs: <c>--message</c>, <c>--send</c>, <c>--bytes</c> (one at most; stdin without).</summary>
internal sealed class PayloadOptions
{
    public Option<string?> Message { get; } = new("--message") { Description = "Send TEXT and print the reply", HelpName = "TEXT" };

    public Option<string?> Send { get; } = new("--send") { Description = "Send the contents of FILE and check the echo", HelpName = "FILE" };

    public Option<long?> Bytes { get; } = new("--bytes")
    {
        Description = "Send N random bytes (65536, 64KiB, 10MB, 1GiB) and check the echo",
        HelpName = "N",
        CustomParser = r => ValueParsers.ParseByteSize(r),
    };

    public void AddTo(Command command)
    {
        command.Add(Message);
        command.Add(Send);
        command.Add(Bytes);
        command.Validators.Add(result =>
        {
            var given = new Option[] { Message, Send, Bytes }.Where(o => result.GetResult(o) is not null).Select(o => o.Name).ToArray();
            if (given.Length > 1)
            {
                result.AddError($"{string.Join(" and ", given)} were both given; expected one of --message, --send or --bytes");
            }
        });
    }

    /// <summary>The payload the options describe; without any, standard input as a message.</summary>
    public async Task<Payload> ResolveAsync(Verb verb)
    {
        if (verb.Get(Send) is { } path)
        {
            if (!File.Exists(path))
            {
                throw new CliFailure(ExitCode.BadInput, $"--send '{path}' is not a readable file; expected the path of a file to send");
            }

            return Payload.FromFile(path);
        }

        if (verb.Get(Bytes) is { } count)
        {
            return Payload.Random(count, (ulong)System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue));
        }

        return Payload.FromText(verb.Get(Message) ?? await Console.In.ReadToEndAsync(verb.CancellationToken).ConfigureAwait(false));
    }
}
