using System.CommandLine;
using System.CommandLine.Parsing;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// The one line flowctl prints for a command line it cannot parse: what was wrong (the argument and the value) and
/// what is expected, then where the help is. Value errors come from <see cref="ValueParsers"/> already worded so.
/// </summary>
internal static class ParseErrors
{
    public static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        var help = $"see '{CommandPath(result.CommandResult)} --help'";
        if (result.UnmatchedTokens.Count > 0)
        {
            return $"unknown argument '{result.UnmatchedTokens[0]}'; expected {Expected(command)}; {help}";
        }

        var error = result.Errors[0];
        var message = error.SymbolResult switch
        {
            ArgumentResult { Tokens.Count: 0 } missing when missing.Parent is OptionResult option => NeedsValue(option.Option),
            OptionResult { Tokens.Count: 0 } option => NeedsValue(option.Option),
            ArgumentResult { Tokens.Count: 0 } missing =>
                $"missing {missing.Argument.HelpName ?? missing.Argument.Name} ({missing.Argument.Description}); expected {Expected(command)}",
            CommandResult when command.Subcommands.Count > 0 && command.Action is null =>
                $"'{command.Name}' needs a verb; expected {Expected(command)}",
            _ => error.Message,
        };
        return $"{message}; {help}";
    }

    private static string NeedsValue(Option option) =>
        $"{option.Name} needs a value; expected {option.Name} {option.HelpName ?? "VALUE"} ({option.Description})";

    /// <summary>What a command takes: its verbs, or its arguments and options.</summary>
    public static string Expected(Command command)
    {
        if (command.Subcommands.Count > 0)
        {
            return "one of " + string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        }

        var arguments = command.Arguments.Select(a => a.HelpName ?? a.Name);
        var options = command.Options.Where(o => !o.Hidden && o.Name != "--help").Select(o => $"[{o.Name}{(o.Arity.MaximumNumberOfValues > 0 ? " " + (o.HelpName ?? "VALUE") : "")}]");
        return string.Join(' ', [CommandPath(command), .. arguments, .. options]);
    }

    private static string CommandPath(CommandResult result) => CommandPath(result.Command);

    /// <summary>The command as typed from the root: <c>flowctl cluster status</c>.</summary>
    public static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (var current = command; current is not null; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, current is RootCommand ? "flowctl" : current.Name);
        }

        return string.Join(' ', names);
    }
}
