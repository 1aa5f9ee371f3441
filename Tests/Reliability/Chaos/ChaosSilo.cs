using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Reliability.Chaos;

/// <summary>
/// One silo place of the chaos cluster: a network namespace with its address, and the Silo program running in it,
/// replaced by a new process on the same address and ports after each fault. Keeps the largest footprint any of its
/// processes was seen with.
/// </summary>
internal sealed class ChaosSilo : IAsyncDisposable
{
    public const int SiloPort = 11111;
    public const int GatewayPort = 30000;
    public const int HttpPort = 8080;

    private readonly NetworkNamespaces _network;
    private readonly string _clusterId;
    private readonly IReadOnlyList<string> _settings;
    private readonly object _lock = new();
    private SiloProcess? _process;
    private ProcessFootprint _max;
    private int _starts;

    public ChaosSilo(NetworkNamespaces network, int member, string clusterId, IReadOnlyList<string> settings)
    {
        _network = network;
        Member = member;
        _clusterId = clusterId;
        _settings = [.. settings, $"--Silo:AdvertisedAddress={network.MemberAddress(member)}", $"--Silo:HttpPort={HttpPort}"];
    }

    public int Member { get; }

    /// <summary>Where the processes' logs go: a directory per cluster under the temporary directory.</summary>
    public string LogDirectory => Path.Combine(Path.GetTempPath(), "flow-chaos", _clusterId);

    /// <summary>The running process, or null between a fault and the restart.</summary>
    public SiloProcess? Process
    {
        get { lock (_lock) { return _process; } }
    }

    /// <summary>The routing ID of the running process's flow manager (what a pin's peer sees), from the endpoints it printed.</summary>
    public RoutingId? RoutingId => Process is { } p ? Endpoint.Parse(p.Endpoints[0]).RoutingId : null;

    /// <summary>How many processes were started here.</summary>
    public int Starts => Volatile.Read(ref _starts);

    /// <summary>The largest RSS and fd count sampled from any of this place's processes.</summary>
    public ProcessFootprint MaxFootprint
    {
        get { lock (_lock) { return _max; } }
    }

    public override string ToString() => $"silo {Member} ({_network.MemberAddress(Member)})";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var process = await SiloProcess.StartAsync(SiloPort, GatewayPort, _clusterId, _settings, cancellationToken, _network.Launcher(Member));
        lock (_lock)
        {
            _process = process;
        }

        Interlocked.Increment(ref _starts);
    }

    /// <summary>Samples the running process's footprint into <see cref="MaxFootprint"/>.</summary>
    public void Sample()
    {
        if (Process is { HasExited: false } p && ProcessFootprint.Read(p.Pid) is { } now)
        {
            lock (_lock)
            {
                _max = ProcessFootprint.Max(_max, now);
            }
        }
    }

    /// <summary>Takes the process away (after it was killed or stopped) and disposes it.</summary>
    public async Task<SiloProcess?> ForgetAsync()
    {
        SiloProcess? process;
        lock (_lock)
        {
            process = _process;
            _process = null;
        }

        if (process is not null)
        {
            var pid = process.Pid;
            await process.DisposeAsync();

            // Each process's log (what it printed after Ready: warnings and errors) stays for the report and for failures.
            Directory.CreateDirectory(LogDirectory);
            await File.WriteAllLinesAsync(Path.Combine(LogDirectory, $"silo{Member}-{Starts}-pid{pid}.log"), [.. process.Banner, .. process.Output]);
        }

        return process;
    }

    public async ValueTask DisposeAsync() => await ForgetAsync();
}
