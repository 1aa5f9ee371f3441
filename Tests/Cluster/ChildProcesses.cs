using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlowOrleans.Tests.Cluster;

/// <summary>What the tests that run real programs (the Silo, PostgreSQL's tools) share: starting them, and free ports.</summary>
internal static class ChildProcesses
{
    /// <summary>Starts <paramref name="program"/> with its output and errors redirected.</summary>
    public static Process Start(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
    }

    /// <summary>Runs <paramref name="program"/> to completion; returns its exit code, output and errors.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        using var process = Start(program, args);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // A program that should have ended but did not must not outlive the test.
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>A loopback TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
