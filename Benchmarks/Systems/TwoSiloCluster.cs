using System.Net;
using System.Net.Sockets;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Two silos in this process, hosted the way the Silo program hosts one (<c>UseLocalhostClustering</c>, memory storage,
/// reminders and streams, <c>AddFlowOrleans</c> listening on loopback), talking to each other and to their clients over
/// real loopback TCP; plus an outside peer, a plain <see cref="FlowManager"/> listening on loopback. Unlike
/// <c>InProcessTestCluster</c>, whose in-memory transport serves only its one client, this cluster takes any number of
/// Orleans clients (<see cref="StartClientAsync"/>), each its own host with a connection to both gateways.
/// </summary>
internal sealed class TwoSiloCluster : IAsyncDisposable
{
    private const string ServiceId = "flow-orleans-bench";

    private readonly IReadOnlyList<IHost> _silos;
    private readonly int[] _gatewayPorts;
    private readonly string _clusterId;

    private TwoSiloCluster(IReadOnlyList<IHost> silos, int[] gatewayPorts, string clusterId, FlowManager peer, Endpoint peerEndpoint)
    {
        _silos = silos;
        _gatewayPorts = gatewayPorts;
        _clusterId = clusterId;
        Peer = peer;
        PeerEndpoint = peerEndpoint;
        SiloKeys = [.. silos.Select(s => GrainInterfaces.SiloKeys.ToKey(s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress))];
    }

    /// <summary>The outside peer every flow goes to; whoever uses the cluster accepts its flows.</summary>
    public FlowManager Peer { get; }

    public Endpoint PeerEndpoint { get; }

    /// <summary>Keys of the two silos, for <see cref="FlowClient.DialAsync(Endpoint, string, CancellationToken)"/>.</summary>
    public IReadOnlyList<string> SiloKeys { get; }

    public static async Task<TwoSiloCluster> StartAsync(CancellationToken cancellationToken)
    {
        var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
        int[] siloPorts = [FreePort(), FreePort()];
        int[] gatewayPorts = [FreePort(), FreePort()];
        var primary = new IPEndPoint(IPAddress.Loopback, siloPorts[0]);
        var silos = new List<IHost>();
        FlowManager? peer = null;
        var principal = BenchPeerTrust.CreatePeerPrincipal();
        try
        {
            // The first silo is the primary the second joins through, so they start one after the other.
            for (var i = 0; i < siloPorts.Length; i++)
            {
                var silo = BuildSilo(siloPorts[i], gatewayPorts[i], primary, clusterId, principal);
                silos.Add(silo);
                await silo.StartAsync(cancellationToken);
            }

            peer = new FlowManager(new FlowManagerOptions { Principal = principal });
            var listener = await peer.ListenAsync("tcp", "127.0.0.1:0", cancellationToken);
            return new TwoSiloCluster(silos, gatewayPorts, clusterId, peer, listener.Endpoint);
        }
        catch
        {
            if (peer is not null)
            {
                await peer.DisposeAsync();
            }

            await StopAsync(silos);
            throw;
        }
    }

    /// <summary>A new Orleans client host, started, with a connection to each silo's gateway.</summary>
    public async Task<IHost> StartClientAsync(CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UseLocalhostClustering(_gatewayPorts, ServiceId, _clusterId)
            .AddFlowOrleansMemoryStreams());
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Stops and disposes client hosts made by <see cref="StartClientAsync"/>.</summary>
    public static async Task StopAsync(IEnumerable<IHost> hosts)
    {
        foreach (var host in hosts.Reverse())
        {
            try
            {
                await host.StopAsync(CancellationToken.None);
            }
            finally
            {
                host.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.DisposeAsync();
        await StopAsync(_silos);
    }

    private static IHost BuildSilo(int siloPort, int gatewayPort, IPEndPoint primary, string clusterId, Principal peer)
    {
        // No logging providers (DisableDefaults): the silos' informational logs would drown the benchmark's progress.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort, gatewayPort, primary, ServiceId, clusterId)
            .AddMemoryGrainStorage(FlowStorageNames.Default)
            .UseInMemoryReminderService()
            .AddFlowOrleansMemoryStreams()
            .AddFlowOrleans(o => BenchPeerTrust.Configure(o, peer)));
        return builder.Build();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
