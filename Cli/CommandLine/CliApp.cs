using System.CommandLine;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// What every verb of one invocation shares: the global options (<c>--json</c>, <c>--verbose</c>), how output is
/// shown, and the wrapper that turns whatever a verb throws into one line on stderr and its class's exit code.
/// </summary>
internal sealed class CliApp(ConsoleKind console)
{
    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print results as JSON for scripts (verbs that report as they go print one JSON object a line)",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "After a failure's one line, print the exception with its details",
        Recursive = true,
    };

    /// <summary>
    /// Makes <paramref name="run"/> the action of <paramref name="command"/>. <paramref name="server"/>: Ctrl+C is the
    /// way it ends (exit 0), not an interruption (exit 130).
    /// </summary>
    public void SetAction(Command command, Func<Verb, Task<int>> run, bool server = false)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CliOutput(
                parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, console, parse.GetValue(Json), parse.GetValue(Verbose));
            var verb = new Verb(parse, output, cancellationToken);
            try
            {
                return await run(verb).ConfigureAwait(false);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested &&
                                      e is OperationCanceledException or FlowOrleans.Transport.FlowException { Code: FlowOrleans.Transport.FlowErrorCode.Aborted })
            {
                // Ctrl+C: a flow cut short by the cancellation reports Aborted rather than a cancellation.
                return (int)(server ? ExitCode.Success : ExitCode.Interrupted);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var failure = Failures.Classify(e, verb.Doing);
                await output.Error.WriteLineAsync($"flowctl {verb.Name}: {Failures.OneLine(failure.Message)}").ConfigureAwait(false);
                if (output.Verbose)
                {
                    await output.Error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
                }

                return (int)failure.Code;
            }
        });
    }
}
