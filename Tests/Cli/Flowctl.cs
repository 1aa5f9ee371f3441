using System.Text.Json;
using FlowOrleans.Cli;
using FlowOrleans.Cli.CommandLine;

namespace FlowOrleans.Tests.Cli;

/// <summary>What a finished flowctl run left: its exit code, output and error lines.</summary>
internal sealed record FlowctlResult(int ExitCode, string Output, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public JsonElement Json => JsonDocument.Parse(Output).RootElement;

    /// <summary>Asserts the run failed as flowctl promises: exactly one line on stderr, with the exit code of its class.</summary>
    public string AssertOneLineFailure(ExitCode expected)
    {
        Assert.True((int)expected == ExitCode, $"exit code {ExitCode}, expected {(int)expected}; stderr: {Error}");
        var line = Assert.Single(ErrorLines);
        Assert.StartsWith("flowctl", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Error, StringComparison.Ordinal);
        return line;
    }
}

/// <summary>Runs flowctl in this process, as the program would (same parser, same verbs), capturing its output.</summary>
internal static class Flowctl
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static async Task<FlowctlResult> RunAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        return await RunAsync(args, ConsoleKind.Plain, timeout.Token);
    }

    public static async Task<FlowctlResult> RunAsync(string[] args, ConsoleKind console, CancellationToken cancellationToken)
    {
        var output = new CapturedOutput();
        var error = new CapturedOutput();
        var exitCode = await FlowCtl.RunAsync(args, output, error, console, handleTermination: false, cancellationToken);
        return new FlowctlResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Starts a verb that runs until cancelled (serve, proxy, accept); its output fills as it goes.</summary>
    public static (Task<int> Run, CapturedOutput Output, CapturedOutput Error) Start(string[] args, CancellationToken cancellationToken)
    {
        var output = new CapturedOutput();
        var error = new CapturedOutput();
        return (Task.Run(() => FlowCtl.RunAsync(args, output, error, cancellationToken), cancellationToken), output, error);
    }

    /// <summary>Each line of a verb that reports as it goes (--json on serve, proxy, accept), parsed.</summary>
    public static JsonElement[] JsonLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
}
