using System.Collections.Concurrent;
using System.Diagnostics;

namespace FlowOrleans.Tests.Cluster;

/// <summary>The real Silo program run as a child process on free ports, with the endpoints it printed.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private SiloProcess(Process process, int siloPort, int gatewayPort, int httpPort, string clusterId, IReadOnlyList<string> endpoints, IReadOnlyList<string> banner)
    {
        _process = process;
        SiloPort = siloPort;
        HttpPort = httpPort;
        GatewayPort = gatewayPort;
        ClusterId = clusterId;
        Endpoints = endpoints;
        Banner = banner;
    }

    public int SiloPort { get; }

    /// <summary>The process's id (the program itself: <c>ip netns exec</c> replaces itself with it).</summary>
    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the program printed before its endpoints: where it listens, TLS, warnings.</summary>
    public IReadOnlyList<string> Banner { get; }

    public int GatewayPort { get; }

    /// <summary>The port of the silo's HTTP server (health, status page): a free one unless the settings name one.</summary>
    public int HttpPort { get; }

    public string ClusterId { get; }

    public IReadOnlyList<string> Endpoints { get; }

    /// <summary>The lines the program printed after Ready so far.</summary>
    public IReadOnlyList<string> Output => _output.ToArray();

    public static Task<SiloProcess> StartAsync(CancellationToken cancellationToken) => StartAsync([], cancellationToken);

    /// <summary>Starts the program on free ports and a new cluster, with more <c>--key=value</c> settings.</summary>
    public static Task<SiloProcess> StartAsync(IReadOnlyList<string> settings, CancellationToken cancellationToken) =>
        StartAsync(ChildProcesses.FreePort(), ChildProcesses.FreePort(), "e2e-" + Guid.NewGuid().ToString("N")[..8], settings, cancellationToken);

    /// <summary>
    /// Starts the program on the given ports and cluster, with more <c>--key=value</c> settings; with
    /// <paramref name="launcher"/>, through that command (<c>ip netns exec NAME</c>, which runs it in a network namespace).
    /// </summary>
    public static async Task<SiloProcess> StartAsync(
        int siloPort, int gatewayPort, string clusterId, IReadOnlyList<string> settings, CancellationToken cancellationToken, IReadOnlyList<string>? launcher = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "FlowOrleans.Silo.dll");

        // Never the default 8080: silos of tests running at the same time would refuse to start on it.
        var httpSetting = settings.LastOrDefault(s => s.StartsWith("--Silo:HttpPort=", StringComparison.Ordinal));
        var httpPort = httpSetting is null ? ChildProcesses.FreePort() : int.Parse(httpSetting["--Silo:HttpPort=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        string[] args =
        [
            dll, $"--Silo:SiloPort={siloPort}", $"--Silo:GatewayPort={gatewayPort}", $"--Silo:ClusterId={clusterId}", $"--Silo:HttpPort={httpPort}",
            "--FlowOrleans:Listen:0=tcp/127.0.0.1:0",
            .. settings,
        ];
        var process = launcher is { Count: > 0 } ? ChildProcesses.Start(launcher[0], [.. launcher.Skip(1), "dotnet", .. args]) : ChildProcesses.Start("dotnet", args);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        try
        {
            // The program prints a header line, one indented endpoint per line, then a line starting with Ready.
            var endpoints = new List<string>();
            var banner = new List<string>();
            var inList = false;
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"The silo exited ({(process.HasExited ? process.ExitCode : -1)}) before printing its endpoints.");
                if (line.Contains("flow manager listens on:", StringComparison.Ordinal))
                {
                    inList = true;
                }
                else if (inList && line.StartsWith("  @", StringComparison.Ordinal))
                {
                    endpoints.Add(line.Trim());
                }
                else if (inList && line.StartsWith("Ready", StringComparison.Ordinal))
                {
                    break;
                }
                else if (!inList)
                {
                    banner.Add(line);
                }
            }

            // Keep draining stdout so the child never blocks on a full pipe; what it prints stays in Output.
            var silo = new SiloProcess(process, siloPort, gatewayPort, httpPort, clusterId, endpoints, banner);
            _ = silo.DrainAsync();
            return silo;
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                _output.Enqueue(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process was killed and disposed: nothing more to read.
        }
    }

    /// <summary>Runs one of the program's commands (such as <c>init-db</c>) to completion; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (exitCode, output, error) = await ChildProcesses.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "FlowOrleans.Silo.dll"), .. args], cancellationToken);
        return (exitCode, output + error);
    }

    /// <summary>Kills the process outright, as a crash would: no shutdown, no goodbyes to the cluster or peers.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM (<c>kill -TERM</c>), as Kubernetes stops a pod: the silo hands its pins over and leaves.</summary>
    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        var (exitCode, _, error) = await ChildProcesses.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);
        if (exitCode != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} exited with {exitCode}: {error}");
        }
    }

    /// <summary>Waits for the process to end; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
