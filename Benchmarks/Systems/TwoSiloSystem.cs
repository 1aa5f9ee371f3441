using System.Collections.Concurrent;
using FlowOrleans.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Orleans clients through a two-silo cluster (<see cref="TwoSiloCluster"/>) to an outside peer. A benchmark connection
/// is one Orleans client; its flows are <see cref="FlowClient.DialAsync(Transport.Endpoints.Endpoint, string, CancellationToken)"/>
/// through the two silos in turn (so a client's flows are split evenly between them), each paired with the flow the
/// peer accepts. Only the <c>scale-clients-*</c> scenarios run on it. Nothing starts until a scenario first connects,
/// and client hosts are kept for later runs once started, so a run pays neither the cluster's start nor its clients'.
/// </summary>
internal sealed class TwoSiloSystem : IBenchSystem
{
    // Client hosts starting at once: each start is a burst of work on the silos too.
    private const int ParallelClientStarts = 8;

    private readonly SemaphoreSlim _clusterGate = new(1, 1);
    private readonly SemaphoreSlim _clientStarts = new(ParallelClientStarts, ParallelClientStarts);

    // Dials are serialised so the flow the peer accepts next is the one just dialled.
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly ConcurrentBag<IHost> _idleClients = [];
    private readonly List<IHost> _clients = [];
    private TwoSiloCluster? _cluster;

    public string Name => "orleans-2silo";

    public bool IsMultiplexed => true;

    public bool IsClusterRelay => true;

    public static ValueTask<IBenchSystem> StartAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IBenchSystem>(new TwoSiloSystem());

    public async ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        if (!_idleClients.TryTake(out var client))
        {
            await _clientStarts.WaitAsync(cancellationToken);
            try
            {
                client = await cluster.StartClientAsync(cancellationToken);
            }
            finally
            {
                _clientStarts.Release();
            }

            lock (_clients)
            {
                _clients.Add(client);
            }
        }

        return new Connection(this, cluster, client);
    }

    public async ValueTask DisposeAsync()
    {
        await TwoSiloCluster.StopAsync(_clients);
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        _clusterGate.Dispose();
        _clientStarts.Dispose();
        _openGate.Dispose();
    }

    private async Task<TwoSiloCluster> ClusterAsync(CancellationToken cancellationToken)
    {
        await _clusterGate.WaitAsync(cancellationToken);
        try
        {
            return _cluster ??= await TwoSiloCluster.StartAsync(cancellationToken);
        }
        finally
        {
            _clusterGate.Release();
        }
    }

    private async Task<FlowPair> OpenFlowPairAsync(TwoSiloCluster cluster, FlowClient client, string siloKey, CancellationToken cancellationToken)
    {
        await _openGate.WaitAsync(cancellationToken);
        try
        {
            var dialed = await client.DialAsync(cluster.PeerEndpoint, siloKey, cancellationToken);
            try
            {
                var accepted = await cluster.Peer.AcceptAsync(cancellationToken);
                if (accepted.RemoteEndpoint.RoutingId != dialed.Handle.LocalEndpoint.RoutingId)
                {
                    await accepted.DisposeAsync();
                    throw new InvalidOperationException(
                        $"The peer accepted a flow from {accepted.RemoteEndpoint}, the client dialled through {dialed.Handle.LocalEndpoint}.");
                }

                return new FlowPair(new ClusterFlowEnd(dialed), new TransportFlowEnd(accepted));
            }
            catch
            {
                await dialed.DisposeAsync();
                throw;
            }
        }
        finally
        {
            _openGate.Release();
        }
    }

    /// <summary>One Orleans client, back in the pool when disposed; disposing closes the flows it opened.</summary>
    private sealed class Connection(TwoSiloSystem system, TwoSiloCluster cluster, IHost client) : IBenchConnection
    {
        private readonly FlowClient _flows = new(client.Services.GetRequiredService<IClusterClient>());
        private readonly List<FlowPair> _pairs = [];

        /// <summary>An Orleans client holds one connection to each gateway.</summary>
        public int TransportConnections => cluster.SiloKeys.Count;

        public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
        {
            int index;
            lock (_pairs)
            {
                index = _pairs.Count;
            }

            var pair = await system.OpenFlowPairAsync(cluster, _flows, cluster.SiloKeys[index % cluster.SiloKeys.Count], cancellationToken);
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

            foreach (var pair in pairs)
            {
                await pair.DisposeAsync();
            }

            system._idleClients.Add(client);
        }
    }
}
