using System.CommandLine;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>One running verb: its parsed command line, its output, its cancellation, and what it is doing now.</summary>
internal sealed class Verb(ParseResult parse, CliOutput output, CancellationToken cancellationToken)
{
    public ParseResult Parse { get; } = parse;

    public CliOutput Output { get; } = output;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The verb as typed: <c>dial</c>, <c>cluster status</c>.</summary>
    public string Name { get; } = ParseErrors.CommandPath(parse.CommandResult.Command)["flowctl ".Length..];

    /// <summary>What the verb is doing, for the failure line ("dialing 127.0.0.1:8100"); verbs update it as they go.</summary>
    public string Doing { get; set; } = "failed";

    public T Get<T>(Option<T> option) => Parse.GetValue(option)!;

    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;
}
