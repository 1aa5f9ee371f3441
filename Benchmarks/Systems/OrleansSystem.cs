using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// The cluster path: a one-silo in-process Orleans cluster with <c>AddFlowOrleans</c>, its client, and an outside
/// peer (a plain <see cref="FlowManager"/> listening on loopback). A flow is <see cref="FlowClient.DialAsync(string, CancellationToken)"/>
/// on the client (grain calls to the silo, which holds the real flow) plus the flow the outside peer accepts. Only
/// the <c>orleans-relay-*</c> scenarios run on it: the silo caches its connection to the peer, so the per-connection
/// scenarios (handshake, idle memory, many flows) would not measure what their names say.
/// </summary>
internal sealed class OrleansSystem : IBenchSystem
{
    private readonly InProcessTestCluster _cluster;
    private readonly FlowClient _client;
    private readonly FlowManager _peer;
    private readonly string _peerEndpoint;

    // Dials are serialised so the flow the peer accepts next is the one just dialled.
    private readonly SemaphoreSlim _openGate = new(1, 1);

    private OrleansSystem(InProcessTestCluster cluster, FlowManager peer, string peerEndpoint)
    {
        _cluster = cluster;
        _client = new FlowClient(cluster.Client);
        _peer = peer;
        _peerEndpoint = peerEndpoint;
    }

    public string Name => "orleans";

    public bool IsMultiplexed => true;

    public bool IsClusterRelay => true;

    /// <summary>The cluster's client, for plain grain calls.</summary>
    public IClusterClient ClusterClient => _cluster.Client;

    public static async ValueTask<IBenchSystem> StartAsync(CancellationToken cancellationToken)
    {
        var principal = BenchPeerTrust.CreatePeerPrincipal();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo
            .AddMemoryGrainStorage(FlowStorageNames.Default)
            .UseInMemoryReminderService()
            .AddFlowOrleansMemoryStreams()
            .AddFlowOrleans(o => BenchPeerTrust.Configure(o, principal)));
        builder.ConfigureClient(client => client.AddFlowOrleansMemoryStreams());

        // The cluster's informational logs would drown the benchmark's progress lines.
        builder.ConfigureHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));
        var cluster = builder.Build();
        FlowManager? peer = null;
        try
        {
            await cluster.DeployAsync(cancellationToken);
            await cluster.WaitForLivenessToStabilizeAsync();

            peer = new FlowManager(new FlowManagerOptions { Principal = principal });
            var listener = await peer.ListenAsync("tcp", "127.0.0.1:0", cancellationToken);
            return new OrleansSystem(cluster, peer, listener.Endpoint.ToString());
        }
        catch
        {
            if (peer is not null)
            {
                await peer.DisposeAsync();
            }

            await cluster.DisposeAsync();
            throw;
        }
    }

    public ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IBenchConnection>(new Connection(this));

    public async ValueTask DisposeAsync()
    {
        await _peer.DisposeAsync();
        await _cluster.DisposeAsync();
        _openGate.Dispose();
    }

    private async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
    {
        await _openGate.WaitAsync(cancellationToken);
        try
        {
            var client = await _client.DialAsync(_peerEndpoint, cancellationToken);
            try
            {
                var accepted = await _peer.AcceptAsync(cancellationToken);
                return new FlowPair(new ClusterFlowEnd(client), new TransportFlowEnd(accepted));
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
        }
        finally
        {
            _openGate.Release();
        }
    }

    /// <summary>
    /// The silo's FlowManager keeps one cached connection to the peer, so a benchmark "connection" owns nothing but
    /// the flows it opened, which it closes when disposed.
    /// </summary>
    private sealed class Connection(OrleansSystem system) : IBenchConnection
    {
        private readonly List<FlowPair> _pairs = [];

        public int TransportConnections => 1;

        public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
        {
            var pair = await system.OpenFlowPairAsync(cancellationToken);
            lock (_pairs)
            {
                _pairs.Add(pair);
            }

            return pair;
        }

        public async ValueTask DisposeAsync()
        {
            FlowPair[] pairs;
            lock (_pairs)
            {
                pairs = [.. _pairs];
                _pairs.Clear();
            }

            // Disposing a pair twice is harmless; this is what unblocks a run the watchdog cancelled.
            foreach (var pair in pairs)
            {
                await pair.DisposeAsync();
            }
        }
    }
}
