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

        // Only the client opens flows; the server's accept backlog is as large as the connection allows.
        var options = new ConnectionOptions();
        var serverAccepts = Channel.CreateBounded<IFlow>(options.AcceptBacklog);
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

        return new Connection(clientTask.Result, serverTask.Result, serverAccepts.Reader);
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
    /// One connection; each flow is opened by the client and accepted by the server. Opens are serialised so the
    /// next accepted flow is the one just opened (checked by its identifier, which both ends share).
    /// </summary>
    private sealed class Connection(ManagedConnection client, ManagedConnection server, ChannelReader<IFlow> accepted)
        : IBenchConnection
    {
        private readonly SemaphoreSlim _openGate = new(1, 1);

        public int TransportConnections => 1;

        public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
        {
            await _openGate.WaitAsync(cancellationToken);
            try
            {
                var opened = client.OpenFlow();
                var arrived = await accepted.ReadAsync(cancellationToken);
                if (arrived.Id != opened.Id)
                {
                    throw new InvalidOperationException($"Opened flow {opened.Id} but the server accepted flow {arrived.Id}.");
                }

                return new FlowPair(opened.AsStream(), arrived.AsStream());
            }
            finally
            {
                _openGate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            // Both ends at once, as a process would close its own end while the peer closes its own.
            await Task.WhenAll(client.CloseAsync("benchmark done"), server.CloseAsync("benchmark done"));
            _openGate.Dispose();
        }
    }
}
