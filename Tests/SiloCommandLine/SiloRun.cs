using FlowOrleans.Silo;
using FlowOrleans.Tests.Cluster;

namespace FlowOrleans.Tests.SiloCommandLine;

/// <summary>What a finished run of the real Silo program left: its exit code, output and errors.</summary>
internal sealed record SiloRun(int ExitCode, string Output, string Error)
{
    /// <summary>Long enough for a slow, busy machine to start .NET and fail; a run that hangs fails the test.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Runs the Silo program (the built dll beside the tests) with <paramref name="args"/> to completion.</summary>
    public static async Task<SiloRun> RunAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (exitCode, output, error) = await ChildProcesses.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "FlowOrleans.Silo.dll"), .. args], timeout.Token);
        return new SiloRun(exitCode, output, error);
    }

    /// <summary>Free silo and gateway ports, so a run that gets as far as its port checks finds them free.</summary>
    public static string[] FreePorts() => [$"--Silo:SiloPort={ChildProcesses.FreePort()}", $"--Silo:GatewayPort={ChildProcesses.FreePort()}"];

    /// <summary>
    /// Asserts the run failed as the Silo program promises: the exit code of the class, exactly one non-empty line on
    /// stderr, no stack trace anywhere, no "Ready". Returns the line.
    /// </summary>
    public string AssertOneLineFailure(SiloExitCode expected)
    {
        Assert.True((int)expected == ExitCode, $"exit code {ExitCode}, expected {(int)expected} ({expected}); stderr: {Error}; stdout: {Output}");
        var line = Assert.Single(Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("FlowOrleans.Silo", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Ready", Output, StringComparison.Ordinal);
        return line;
    }
}
