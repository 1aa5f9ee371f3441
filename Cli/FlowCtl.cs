using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using FlowOrleans.Cli.Cluster;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Cli.Identity;
using FlowOrleans.Cli.Transport;

namespace FlowOrleans.Cli;

/// <summary>
/// <c>flowctl</c>: flows from a shell. Transport verbs (<c>serve</c>, <c>dial</c>, <c>ping</c>, <c>proxy</c>) use the
/// Transport library alone; identity verbs (<c>principal</c>, <c>bless</c>, <c>roots</c>) manage principal directories;
/// cluster verbs (<c>cluster ...</c>) go through an Orleans client of a silo's gateway. A bad command line, file or
/// peer ends with one line on stderr and the exit code of its class (<see cref="ExitCode"/>).
/// </summary>
internal static class FlowCtl
{
    /// <summary>Runs flowctl with plain (redirected) output; what tests and the README examples use.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, ConsoleKind.Plain, handleTermination: false, cancellationToken);

    /// <summary>
    /// Runs flowctl. <paramref name="handleTermination"/>: Ctrl+C and SIGTERM cancel the running verb (the program);
    /// tests cancel through <paramref name="cancellationToken"/> instead.
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, ConsoleKind console, bool handleTermination, CancellationToken cancellationToken)
    {
        var root = CreateRoot(new CliApp(console));
        // No response files: endpoints start with '@', which System.CommandLine would read as "@file".
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction)
        {
            await error.WriteLineAsync($"{ParseErrors.CommandPath(parsed.CommandResult.Command)}: {ParseErrors.Describe(parsed)}").ConfigureAwait(false);
            return (int)ExitCode.BadArgument;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = handleTermination ? TimeSpan.FromSeconds(5) : null,
        };
        return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    internal static RootCommand CreateRoot(CliApp app)
    {
        var root = new RootCommand("flowctl: serve, dial and ping flows, manage principals and blessings, and talk to a FlowOrleans cluster")
        {
            app.Json,
            app.Verbose,
        };
        foreach (var command in TransportCommands.Create(app).Concat(IdentityCommands.Create(app)).Append(ClusterCommands.Create(app)))
        {
            root.Add(command);
        }

        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExitCodes((HelpAction)help.Action!);
        return root;
    }
}
