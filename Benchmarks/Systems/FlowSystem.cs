using System.Collections.Concurrent;
using System.Threading.Channels;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Our Transport: two <see cref="ManagedConnection"/>s over a fresh loopback <c>tcp</c> framed connection, with the
/// full handshake (P-256 signatures, blessings, authorization, AES-256-GCM records). Connections are made directly
/// rather than through two <c>FlowManager</c>s because a manager caches connections per endpoint: every
/// <see cref="ConnectAsync"/> here must pay for a new TCP connection and a new handshake, as <c>handshake</c> measures.
/// </summary>
internal sealed class FlowSystem : IBenchSystem
{
    private const int ServerAcceptBacklog = 256;

    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(30);

    private readonly TcpProtocol _protocol = new();
    private readonly IProtocolListener _listener;
    private readonly Principal _clientPrincipal = NewPrincipal("bench-client");
    private readonly Principal _serverPrincipal = NewPrincipal("bench-server");
    private readonly Endpoint _serverEndpoint;
    private readonly Endpoint _clientEndpoint;

    private FlowSystem(IProtocolListener listener)
    {
        _listener = listener;
        _serverEndpoint = Endpoint.Create("tcp", listener.Address, RoutingId.NewRandom());
        _clientEndpoint = Endpoint.Create("tcp", "127.0.0.1:0", RoutingId.NewRandom());
    }

    public string Name => "flow";

    public bool IsMultiplexed => true;

    public static async ValueTask<IBenchSystem> StartAsync(CancellationToken cancellationToken) =>
        new FlowSystem(await new TcpProtocol().ListenAsync("tcp", "127.0.0.1:0", cancellationToken));

    public async ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var accept = _listener.AcceptAsync(cancellationToken).AsTask();
        IFramedConnection dialed;
        try
        {
            dialed = await _protocol.DialAsync("tcp", _listener.Address, DialTimeout, cancellationToken);
        }
        catch
        {
            _ = accept.ContinueWith(static t => t.Result.DisposeAsync(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }

        var accepted = await accept;

        // Only the client opens flows; the server queues more of them for accepting than any scenario opens at once.
        var options = new ConnectionOptions();
        var serverAccepts = Channel.CreateBounded<IFlow>(ServerAcceptBacklog);
        var serverTask = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = _serverPrincipal,
            Authorizer = PeerAuthorizers.AllowEveryone(_serverPrincipal),
            LocalEndpoint = _serverEndpoint,
            Options = options,
            AcceptedFlows = serverAccepts.Writer,
        }, cancellationToken);
        var clientTask = ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = _clientPrincipal,
            Authorizer = PeerAuthorizers.AllowEveryone(_clientPrincipal),
            LocalEndpoint = _clientEndpoint,
            RemoteEndpoint = _serverEndpoint,
            Options = options,
        }, cancellationToken);
        try
        {
            await Task.WhenAll(serverTask, clientTask);
        }
        catch
        {
            // A failed handshake disposes its own framed connection; close the side that succeeded.
            if (serverTask.IsCompletedSuccessfully)
            {
                await serverTask.Result.DisposeAsync();
            }

            if (clientTask.IsCompletedSuccessfully)
            {
                await clientTask.Result.DisposeAsync();
            }

            throw;
        }

        return new Connection(clientTask.Result, serverTask.Result, serverAccepts);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
    }

    private static Principal NewPrincipal(string name)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(name);
        return principal;
    }

    /// <summary>
    /// One connection; each flow is opened by the client and accepted by the server. Flows may be opened
    /// concurrently: a pump takes the server's accepted flows and hands each to the opener waiting for that flow
    /// identifier (which both ends share), whichever of the two comes first.
    /// </summary>
    private sealed class Connection : IBenchConnection
    {
        private readonly ManagedConnection _client;
        private readonly ManagedConnection _server;
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource<IFlow>> _arrivals = new();
        private readonly Channel<IFlow> _accepted;
        private readonly Task _pump;

        public Connection(ManagedConnection client, ManagedConnection server, Channel<IFlow> accepted)
        {
            _client = client;
            _server = server;
            _accepted = accepted;
            _pump = PumpAsync(accepted.Reader);
        }

        public int TransportConnections => 1;

        public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
        {
            var opened = _client.OpenFlow();
            var arrived = await Arrival(opened.Id).Task.WaitAsync(cancellationToken);
            _arrivals.TryRemove(opened.Id, out _);
            return new FlowPair(opened.AsStream(), arrived.AsStream());
        }

        public async ValueTask DisposeAsync()
        {
            // Both ends at once, as a process would close its own end while the peer closes its own.
            await Task.WhenAll(_client.CloseAsync("benchmark done"), _server.CloseAsync("benchmark done"));
            _accepted.Writer.TryComplete(); // the connection never completes the channel it was given
            await _pump;
        }

        // Synchronous continuations: the opener carries on on the pump's thread up to its first wait, saving a hop.
        private TaskCompletionSource<IFlow> Arrival(ulong id) => _arrivals.GetOrAdd(id, static _ => new TaskCompletionSource<IFlow>());

        private async Task PumpAsync(ChannelReader<IFlow> accepted)
        {
            try
            {
                await foreach (var flow in accepted.ReadAllAsync())
                {
                    Arrival(flow.Id).TrySetResult(flow);
                }
            }
            catch (Exception e) when (e is FlowException or ChannelClosedException or OperationCanceledException)
            {
                // The connection closed; openers still waiting are cancelled by their own tokens.
            }
        }
    }
}
