using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Microsoft.Extensions.Hosting;

namespace FlowOrleans.Silo.CommandLine;

/// <summary>
/// The Silo program's command line (System.CommandLine, as flowctl's): without a command it runs the silo, whose
/// settings are <c>--Section:Key=value</c> tokens the parser leaves alone and the configuration reads; <c>echo-server</c>,
/// <c>init-db</c> and <c>client</c> (flowctl's cluster verbs) are commands. A bad command line or setting ends with one
/// line on stderr and the exit code of its class (<see cref="SiloExitCode"/>).
/// </summary>
internal static class SiloCommandLine
{
    /// <summary>The program's name in messages and help.</summary>
    public const string ProgramName = "FlowOrleans.Silo";

    /// <param name="args">The program's arguments.</param>
    /// <param name="configure">What Program.cs adds to the silo's host besides the silo.</param>
    public static async Task<int> RunAsync(string[] args, Action<HostApplicationBuilder> configure)
    {
        var root = CreateRoot(configure);

        // No response files: endpoints start with '@', which System.CommandLine would read as "@file".
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction)
        {
            var command = CommandPath(parsed.CommandResult.Command);
            await Console.Error.WriteLineAsync($"{command}: {StartFailures.OneLine(parsed.Errors[0].Message)}; see '{command} --help'");
            return (int)SiloExitCode.BadSetting;
        }

        // The silo's host handles Ctrl+C and SIGTERM itself (with its shutdown timeout); the other commands cancel on their own.
        return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    internal static RootCommand CreateRoot(Action<HostApplicationBuilder> configure)
    {
        var root = new RootCommand(
            "Runs a FlowOrleans silo. Settings come from appsettings.json, then environment variables (Silo__SiloPort=11111), " +
            "then the command line as --Section:Key=value (--Silo:SiloPort=11111, --FlowOrleans:Listen:0=tcp/127.0.0.1:8100); " +
            "every setting with its default: Silo/README.md.")
        {
            // The settings: tokens the parser does not know, read by the configuration.
            TreatUnmatchedTokensAsErrors = false,
        };
        SetAction(root, async (parse, _) =>
        {
            var settings = parse.UnmatchedTokens.ToArray();
            if (SettingTokens.FirstStray(settings) is { } stray)
            {
                throw new SiloFailure(SiloExitCode.BadSetting,
                    $"unknown argument '{stray}'; expected a command ({string.Join(", ", root.Subcommands.Select(c => c.Name))}) or settings as --Section:Key=value; see '{ProgramName} --help'");
            }

            return await new SiloRunner(settings, configure).RunAsync(Console.Out);
        });

        root.Add(EchoServerCommand.Create());
        root.Add(InitDb());
        root.Add(ClientAliasCommand.Create());

        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExitCodes((HelpAction)help.Action!);
        return root;
    }

    private static Command InitDb()
    {
        var connectionString = new Argument<string?>("CONNECTION-STRING")
        {
            Description = "The Npgsql connection string; default the Silo__PostgreSql environment variable",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("init-db", "Create the PostgreSQL schema of Silo:Storage=PostgreSQL unless it is there (silos starting together serialise on a lock)")
        {
            connectionString,
        };
        SetAction(command, (parse, cancellationToken) => DatabaseSchema.RunAsync(parse.GetValue(connectionString), Console.Out, cancellationToken));
        return command;
    }

    /// <summary>Makes <paramref name="run"/> the action of <paramref name="command"/>: a <see cref="SiloFailure"/> becomes its line and exit code.</summary>
    public static void SetAction(Command command, Func<ParseResult, CancellationToken, Task<int>> run) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                // System.CommandLine leaves unmatched tokens alone everywhere once the root does (for the settings).
                if (command.TreatUnmatchedTokensAsErrors && parse.UnmatchedTokens.Count > 0)
                {
                    throw new SiloFailure(SiloExitCode.BadSetting,
                        $"unknown argument '{parse.UnmatchedTokens[0]}'; expected {string.Join(' ', command.Arguments.Select(a => $"[{a.Name}]"))}; see '{CommandPath(command)} --help'");
                }

                return await run(parse, cancellationToken);
            }
            catch (SiloFailure failure)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"{CommandPath(parse.CommandResult.Command)}: {StartFailures.OneLine(failure.Message)}");
                return (int)failure.Code;
            }
        });

    /// <summary>The command as typed from the root: <c>FlowOrleans.Silo client status</c>.</summary>
    public static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (var current = command; current is not null; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, current is RootCommand ? ProgramName : current.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>The standard help, followed by the exit code table.</summary>
    private sealed class HelpWithExitCodes(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var result = inner.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(SiloExitCodes.Describe());
            return result;
        }
    }
}
