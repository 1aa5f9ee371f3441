using System.Collections.Concurrent;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Our Transport used the way the README's example uses it, through the public API only: a listening
/// <see cref="FlowManager"/> with default options serves the whole run, and each benchmark connection is a dial-only
/// client manager (<see cref="RoutingId.Null"/>, default options otherwise) whose first <c>DialAsync</c> makes a new
/// TCP connection and a full handshake, and whose later dials reuse that connection. Flows are used through
/// <see cref="IFlow.AsStream"/> and half-closed with <see cref="IFlow.CloseWriteAsync"/>.
/// <para>
/// The server end of a flow comes from one accept loop (<see cref="FlowManager.AcceptAsync"/>), which hands each
/// accepted flow to the benchmark connection it arrived on (<see cref="IFlow.Connection"/>) and, there, to the
/// opener with the same flow ID, which both ends share. A new connection is recognised by its first flow: connects
/// are serialised, and a connection whose benchmark connection was disposed stays known until it has closed, so a
/// late flow of it is never taken for the next one's.
/// </para>
/// </summary>
internal sealed class FlowSystem : IBenchSystem
{
    private readonly FlowManager _server;
    private readonly Endpoint _serverEndpoint;

    // One identity for every client manager, as one client program would have (Principal.LoadOrCreate); a new
    // principal per connection would make every handshake pay for a chain the server has not seen.
    private readonly Principal _clientPrincipal = Principal.CreateInMemory();
    private readonly IPeerAuthorizer _clientAuthorizer;
    private readonly ConcurrentDictionary<IManagedConnection, Connection> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly Task _acceptLoop;
    private TaskCompletionSource<IFlow>? _awaitingFirstFlow;

    private FlowSystem(FlowManager server, Endpoint serverEndpoint)
    {
        _server = server;
        _serverEndpoint = serverEndpoint;
        _clientPrincipal.DefaultBlessings = _clientPrincipal.BlessSelf("bench-client");
        _clientAuthorizer = PeerAuthorizers.AllowEveryone(_clientPrincipal);
        _acceptLoop = AcceptLoopAsync();
    }

    public string Name => "flow";

    public bool IsMultiplexed => true;

    public static async ValueTask<IBenchSystem> StartAsync(CancellationToken cancellationToken)
    {
        var server = new FlowManager();
        try
        {
            var listener = await server.ListenAsync("tcp", "127.0.0.1:0", cancellationToken);
            return new FlowSystem(server, listener.Endpoint);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken);
        var firstAccepted = new TaskCompletionSource<IFlow>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _awaitingFirstFlow, firstAccepted);
        var client = new FlowManager(new FlowManagerOptions { RoutingId = RoutingId.Null, Principal = _clientPrincipal });
        try
        {
            var dialed = await client.DialAsync(_serverEndpoint, _clientAuthorizer, cancellationToken: cancellationToken);
            var accepted = await firstAccepted.Task.WaitAsync(cancellationToken);
            if (accepted.Id != dialed.Id)
            {
                throw new InvalidOperationException(
                    $"The first flow accepted on a new connection has ID {accepted.Id}, the one dialled {dialed.Id}.");
            }

            var first = new FlowPair(new TransportFlowEnd(dialed), new TransportFlowEnd(accepted));
            var connection = new Connection(this, client, accepted.Connection, first);
            _connections[accepted.Connection] = connection;
            return connection;
        }
        catch
        {
            Interlocked.CompareExchange(ref _awaitingFirstFlow, null, firstAccepted);

            // Closing the client closes its connection, and with it any flow of it the accept loop still hands out.
            await client.DisposeAsync();
            throw;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync(); // fails the pending AcceptAsync, which ends the loop
        await _acceptLoop;
        _connectGate.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            IFlow flow;
            try
            {
                flow = await _server.AcceptAsync();
            }
            catch (FlowException)
            {
                return; // the manager closed
            }

            if (_connections.TryGetValue(flow.Connection, out var connection))
            {
                connection.Deliver(flow);
            }
            else if (Interlocked.Exchange(ref _awaitingFirstFlow, null) is { } waiting)
            {
                waiting.TrySetResult(flow);
            }
            else
            {
                // The first flow of a connect that gave up: its client closed the connection already.
                await flow.DisposeAsync();
            }
        }
    }

    /// <summary>One client manager and its one connection, whose accepted flows the accept loop delivers here.</summary>
    private sealed class Connection(FlowSystem system, FlowManager client, IManagedConnection serverSide, FlowPair first)
        : IBenchConnection
    {
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource<IFlow>> _arrivals = new();
        private FlowPair? _first = first;

        public int TransportConnections => 1;

        public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _first, null) is { } first)
            {
                return first;
            }

            var dialed = await DialAsync(cancellationToken);
            try
            {
                var accepted = await AcceptedAsync(dialed.Id, cancellationToken);
                return new FlowPair(new TransportFlowEnd(dialed), new TransportFlowEnd(accepted));
            }
            catch
            {
                await dialed.DisposeAsync();
                throw;
            }
        }

        /// <summary>Returns as soon as the client's dial does: the client may write before the server accepts.</summary>
        public async ValueTask<ServedFlow> OpenServedFlowAsync(FlowHandler handler, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _first, null) is { } first)
            {
                return new ServedFlow(first.Client, ServedFlow.ServeAsync(first.Server, handler, cancellationToken));
            }

            var dialed = await DialAsync(cancellationToken);
            return new ServedFlow(new TransportFlowEnd(dialed), ServeWhenAcceptedAsync(dialed.Id, handler, cancellationToken));
        }

        public void Deliver(IFlow flow) => Arrival(flow.Id).TrySetResult(flow);

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _first, null) is { } first)
            {
                await first.DisposeAsync();
            }

            await client.DisposeAsync();

            // Once the server side has closed, no flow of this connection can reach the accept loop any more.
            await serverSide.Closed;
            system._connections.TryRemove(serverSide, out _);
        }

        private Task<IFlow> DialAsync(CancellationToken cancellationToken) =>
            client.DialAsync(system._serverEndpoint, system._clientAuthorizer, cancellationToken: cancellationToken);

        private async Task ServeWhenAcceptedAsync(ulong id, FlowHandler handler, CancellationToken cancellationToken) =>
            await ServedFlow.ServeAsync(new TransportFlowEnd(await AcceptedAsync(id, cancellationToken)), handler, cancellationToken);

        private async Task<IFlow> AcceptedAsync(ulong id, CancellationToken cancellationToken)
        {
            try
            {
                return await Arrival(id).Task.WaitAsync(cancellationToken);
            }
            finally
            {
                _arrivals.TryRemove(id, out _);
            }
        }

        // Synchronous continuations: whoever waits for the flow carries on on the accept loop's thread up to its first
        // wait, as a server's handler started from its accept loop would.
        private TaskCompletionSource<IFlow> Arrival(ulong id) =>
            _arrivals.GetOrAdd(id, static _ => new TaskCompletionSource<IFlow>());
    }
}
