using System.Collections.Concurrent;
using System.Security.Cryptography;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// A manager listening on loopback tcp for the flood tests, with an application that echoes the flows of its
/// legitimate clients, drains flow 1 of anyone else, and holds every other flow without reading it (the flood's
/// flows, whose windows fill up); plus the measures the tests take of it.
/// </summary>
internal sealed class FloodServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<RoutingId, bool> _clients = new();
    private readonly ConcurrentBag<IFlow> _held = [];
    private readonly Task _serving;
    private long _drained;

    private FloodServer(FlowManager manager, Endpoint endpoint)
    {
        Manager = manager;
        Endpoint = endpoint;
        _serving = Task.Run(ServeAsync);
    }

    public FlowManager Manager { get; }

    public Endpoint Endpoint { get; }

    /// <summary>Bytes read from drained flows.</summary>
    public long Drained => Interlocked.Read(ref _drained);

    /// <summary>Flows held unread.</summary>
    public int Held => _held.Count;

    public static async Task<FloodServer> StartAsync(Action<FlowManagerOptions>? configure = null)
    {
        var options = new FlowManagerOptions { Principal = NewPrincipal("server") };
        configure?.Invoke(options);
        var manager = new FlowManager(options);
        var listener = await manager.ListenAsync("tcp", "127.0.0.1:0");
        return new FloodServer(manager, listener.Endpoint);
    }

    /// <summary>
    /// The heap the process holds after a full collection: a generous outer bound of what the server retains, since
    /// the floods' own counters say what it holds in detail. The flood tests run alone, so it is theirs.
    /// </summary>
    public static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The server's side of the connection a peer with <paramref name="peer"/> made.</summary>
    public async Task<ManagedConnection> ConnectionToAsync(RoutingId peer)
    {
        ManagedConnection? found = null;
        await WaitUntilAsync(
            () => (found = Manager.Connections.OfType<ManagedConnection>().FirstOrDefault(c => c.RemoteEndpoint.RoutingId == peer)) is not null,
            () => $"no connection from {peer}");
        return found!;
    }

    /// <summary>A legitimate client dials the server and gets back what it sends: the flood did not take the server down.</summary>
    public async Task EchoWorksAsync()
    {
        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("client") });
        _clients[client.RoutingId] = true;
        var data = RandomNumberGenerator.GetBytes(100_000);
        await using var flow = await client.DialAsync(Endpoint, PeerAuthorizers.AllowEveryone(client.Principal)).WaitAsync(TestTimeout);
        await flow.WriteAsync(data);
        await flow.CloseWriteAsync();
        Assert.Equal(data, await ReadToEndAsync(flow).WaitAsync(TestTimeout));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Manager.DisposeAsync();
        await _serving;
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            IFlow flow;
            try
            {
                flow = await Manager.AcceptAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            if (_clients.ContainsKey(flow.RemoteEndpoint.RoutingId))
            {
                _ = EchoAsync(flow);
            }
            else if (flow.Id == 1)
            {
                _ = DrainAsync(flow);
            }
            else
            {
                _held.Add(flow);
            }
        }
    }

    private static async Task EchoAsync(IFlow flow)
    {
        await using (flow)
        {
            var data = await ReadToEndAsync(flow);
            await flow.WriteAsync(data);
            await flow.CloseWriteAsync();
        }
    }

    private async Task DrainAsync(IFlow flow)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await flow.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref _drained, n);
            }
        }
        catch (Transport.FlowException)
        {
            // The flooding peer was cut off.
        }
    }
}
