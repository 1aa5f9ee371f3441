using System.Security.Cryptography;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FlowManagerTests
{
    private static FlowManager NewManager(string name, Action<FlowManagerOptions>? configure = null)
    {
        var options = new FlowManagerOptions { Principal = NewPrincipal(name), PinBackoffMin = TimeSpan.FromMilliseconds(20), PinBackoffMax = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return new FlowManager(options);
    }

    private static IPeerAuthorizer Anyone(FlowManager m) => PeerAuthorizers.AllowEveryone(m.Principal);

    private static async Task<byte[]> EchoOnceAsync(FlowManager client, Endpoint server, byte[] data)
    {
        await using var flow = await client.DialAsync(server, Anyone(client));
        await flow.WriteAsync(data);
        await flow.CloseWriteAsync();
        return await ReadToEndAsync(flow);
    }

    private static Task ServeEchoAsync(FlowManager server, CancellationToken ct) => Task.Run(async () =>
    {
        while (!ct.IsCancellationRequested)
        {
            IFlow flow;
            try
            {
                flow = await server.AcceptAsync(ct);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                await using (flow)
                {
                    var data = await ReadToEndAsync(flow);
                    await flow.WriteAsync(data);
                    await flow.CloseWriteAsync();
                }
            });
        }
    });

    [Fact]
    public async Task ListensOnSeveralAddressesAndStatusShowsThem()
    {
        await using var server = NewManager("server");
        var dirty = server.Status.Dirty;
        var a = await server.ListenAsync("tcp", "127.0.0.1:0");
        Assert.True(dirty.IsCompleted);
        var b = await server.ListenAsync("tcp", "127.0.0.1:0");
        var status = server.Status;
        Assert.Equal(2, status.Endpoints.Count);
        Assert.All(status.Endpoints, e => Assert.Equal(server.RoutingId, e.RoutingId));
        Assert.Contains(a.Endpoint, status.Endpoints);
        Assert.Contains(b.Endpoint, status.Endpoints);
        Assert.NotEqual(a.Endpoint.Address, b.Endpoint.Address);

        using var cts = new CancellationTokenSource();
        _ = ServeEchoAsync(server, cts.Token);
        await using var client = NewManager("client");
        var data = RandomNumberGenerator.GetBytes(100_000);
        Assert.Equal(data, await EchoOnceAsync(client, a.Endpoint, data));
        Assert.Equal(data, await EchoOnceAsync(client, b.Endpoint, data));
        await cts.CancelAsync();
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("wsh")]
    [InlineData("unix")]
    public async Task FlowsWorkOverEveryRegisteredStreamProtocol(string protocol)
    {
        await using var server = NewManager("server");
        var address = protocol == "unix" ? Path.Combine(Path.GetTempPath(), $"flow-{Guid.NewGuid():N}.sock") : "127.0.0.1:0";
        var listener = await server.ListenAsync(protocol, address);
        using var cts = new CancellationTokenSource();
        _ = ServeEchoAsync(server, cts.Token);
        await using var client = NewManager("client");
        var data = RandomNumberGenerator.GetBytes(300_000);
        Assert.Equal(data, await EchoOnceAsync(client, listener.Endpoint, data));
        if (protocol == "wsh")
        {
            // The same port also serves WebSocket clients.
            var viaWs = listener.Endpoint.WithProtocol("ws");
            Assert.Equal(data, await EchoOnceAsync(client, viaWs, data));
        }

        await cts.CancelAsync();
    }

    [Fact]
    public async Task ListenErrorsAreReportedByProtocolAndAddress()
    {
        await using var server = NewManager("server");
        var first = await server.ListenAsync("tcp", "127.0.0.1:0");
        var dirty = server.Status.Dirty;
        var e = await Assert.ThrowsAsync<FlowException>(() => server.ListenAsync("tcp", first.Endpoint.Address));
        Assert.True(dirty.IsCompleted);
        Assert.Equal(e, server.Status.ListenErrors[("tcp", first.Endpoint.Address)]);
    }

    [Fact]
    public async Task StopListeningFailsPendingAcceptsAndListeningAgainWorks()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        var pending = server.AcceptAsync().AsTask();
        var dirty = server.Status.Dirty;
        await server.StopListeningAsync();
        Assert.True(dirty.IsCompleted);
        await listener.Completion.WaitAsync(TestTimeout);
        var e = await Assert.ThrowsAsync<FlowException>(() => pending.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, e.Code);
        Assert.DoesNotContain(listener.Endpoint, server.Status.Endpoints);

        var again = await server.ListenAsync("tcp", "127.0.0.1:0");
        using var cts = new CancellationTokenSource();
        _ = ServeEchoAsync(server, cts.Token);
        await using var client = NewManager("client");
        Assert.Equal(new byte[] { 1, 2 }, await EchoOnceAsync(client, again.Endpoint, [1, 2]));
        await cts.CancelAsync();
    }

    [Fact]
    public async Task DialsReuseTheCachedConnectionAndConcurrentDialsMakeOne()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client");
        var e = await Assert.ThrowsAsync<FlowException>(() => client.DialCachedAsync(listener.Endpoint, Anyone(client)));
        Assert.Equal(FlowErrorCode.BadState, e.Code);

        var flows = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.DialAsync(listener.Endpoint, Anyone(client))));
        Assert.Single(flows.Select(f => f.Connection).Distinct());
        Assert.Single(client.Connections);
        var cached = await client.DialCachedAsync(listener.Endpoint, Anyone(client));
        Assert.Same(flows[0].Connection, cached.Connection);
        // By routing ID alone, too.
        var byId = await client.DialCachedAsync(Endpoint.ForRoutingId(server.RoutingId), Anyone(client));
        Assert.Same(flows[0].Connection, byId.Connection);
    }

    [Fact]
    public async Task AFailedHandshakeIsNeverCached()
    {
        var serverPrincipal = NewPrincipal("server");
        await using var server = NewManager("server", o =>
        {
            o.Principal = serverPrincipal;
            o.AcceptorAuthorizer = PeerAuthorizers.RequireBlessings(serverPrincipal, "nobody");
        });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client");
        var e = await Assert.ThrowsAsync<FlowException>(() => client.DialAsync(listener.Endpoint, Anyone(client)));
        Assert.True(e.Code == FlowErrorCode.NotTrusted, e.ToString());
        Assert.Empty(client.Connections);
    }

    [Fact]
    public async Task APeerThatDialedInCanBeDialedBackByRoutingIdAlone()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client"); // not listening anywhere
        await using var first = await client.DialAsync(listener.Endpoint, Anyone(client));
        await first.WriteAsync(new byte[] { 1 });
        var accepted = await server.AcceptAsync();
        Assert.Equal(client.RoutingId, accepted.RemoteEndpoint.RoutingId);

        var back = await server.DialAsync(Endpoint.ForRoutingId(client.RoutingId), Anyone(server));
        Assert.Same(accepted.Connection, back.Connection);
        await back.WriteMessageAndCloseAsync([new byte[] { 7, 7 }]);
        var atClient = await client.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal(new byte[] { 7, 7 }, await ReadToEndAsync(atClient));
    }

    [Fact]
    public async Task ANullRoutingIdManagerCanOnlyDial()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client", o => o.RoutingId = RoutingId.Null);
        var e = await Assert.ThrowsAsync<FlowException>(() => client.ListenAsync("tcp", "127.0.0.1:0"));
        Assert.Equal(FlowErrorCode.BadState, e.Code);
        using var cts = new CancellationTokenSource();
        _ = ServeEchoAsync(server, cts.Token);
        Assert.Equal(new byte[] { 3 }, await EchoOnceAsync(client, listener.Endpoint, [3]));
        // The server cannot open flows back over the client's connection.
        var conn = (ManagedConnection)server.Connections.Single();
        var back = conn.OpenFlow();
        await back.WriteAsync(new byte[] { 1 });
        var refused = await Assert.ThrowsAsync<FlowException>(async () => await back.ReadAsync(new byte[1]));
        Assert.Equal(FlowErrorCode.BadState, refused.Code);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task TwoManagersDialingEachOtherAtOnceBothSucceed()
    {
        await using var a = NewManager("a");
        await using var b = NewManager("b");
        var la = await a.ListenAsync("tcp", "127.0.0.1:0");
        var lb = await b.ListenAsync("tcp", "127.0.0.1:0");
        using var cts = new CancellationTokenSource();
        _ = ServeEchoAsync(a, cts.Token);
        _ = ServeEchoAsync(b, cts.Token);
        for (var i = 0; i < 5; i++)
        {
            var ab = EchoOnceAsync(a, lb.Endpoint, [1, (byte)i]);
            var ba = EchoOnceAsync(b, la.Endpoint, [2, (byte)i]);
            Assert.Equal(new byte[] { 1, (byte)i }, await ab.WaitAsync(TestTimeout));
            Assert.Equal(new byte[] { 2, (byte)i }, await ba.WaitAsync(TestTimeout));
        }

        await cts.CancelAsync();
    }

    [Fact]
    public async Task IdleConnectionsAreEvictedLruButNeverOnesWithOpenFlows()
    {
        await using var s1 = NewManager("s1");
        await using var s2 = NewManager("s2");
        await using var s3 = NewManager("s3");
        var l1 = await s1.ListenAsync("tcp", "127.0.0.1:0");
        var l2 = await s2.ListenAsync("tcp", "127.0.0.1:0");
        var l3 = await s3.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client", o => o.MaxCachedConnections = 1);

        var busy = await client.DialAsync(l1.Endpoint, Anyone(client)); // stays open
        var idle = await client.DialAsync(l2.Endpoint, Anyone(client));
        var idleConnection = idle.Connection;
        await idle.DisposeAsync();
        await WaitUntilAsync(() => ((ManagedConnection)idleConnection).ActiveFlows == 0);

        // A third dial pushes the cache over its limit of one: the idle connection goes, the busy one stays.
        await using var third = await client.DialAsync(l3.Endpoint, Anyone(client));
        await idleConnection.Closed.WaitAsync(TestTimeout);
        Assert.False(busy.Connection.Closed.IsCompleted);
        Assert.DoesNotContain(idleConnection, client.Connections);
        await busy.WriteAsync(new byte[] { 1 });
    }

    [Fact]
    public async Task APinnedConnectionComesBackWhenItsPeerRestartsOnTheSameAddress()
    {
        var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        var address = listener.Endpoint.Address;
        // Each re-dial attempt is bounded tightly, so an attempt that lands in the old server's dying listener fails
        // fast and the next one reaches the restarted server.
        await using var client = NewManager("client", o =>
        {
            o.MaxCachedConnections = 1;
            o.DialTimeout = TimeSpan.FromSeconds(5);
            o.Connection.HandshakeTimeout = TimeSpan.FromSeconds(3);
        });
        var target = Endpoint.Create("tcp", address); // by address: the restarted server has a new routing ID
        var pin = await client.PinConnectionAsync(target, Anyone(client));
        var before = pin.Connection;

        await server.DisposeAsync();
        await before.Closed.WaitAsync(TestTimeout);
        await using var restarted = NewManager("server");
        await restarted.ListenAsync("tcp", address);
        await WaitUntilAsync(() => pin.Connection != before && !pin.Connection.Closed.IsCompleted);
        Assert.Equal(1, pin.Reconnects);
        Assert.Equal(restarted.RoutingId, pin.Connection.RemoteEndpoint.RoutingId);

        using var cts = new CancellationTokenSource();
        _ = ServeEchoAsync(restarted, cts.Token);
        Assert.Equal(new byte[] { 9 }, await EchoOnceAsync(client, target, [9]).WaitAsync(TestTimeout));

        // While pinned, an idle connection survives a dial that pushes the cache (limit one) over its limit.
        var pinned = pin.Connection;
        await WaitUntilAsync(() => ((ManagedConnection)pinned).ActiveFlows == 0);
        await using var other = NewManager("other");
        var otherListener = await other.ListenAsync("tcp", "127.0.0.1:0");
        await using (await client.DialAsync(otherListener.Endpoint, Anyone(client)))
        {
        }

        Assert.False(pinned.Closed.IsCompleted);

        // Unpinning is idempotent and makes the connection evictable again: the next dial over the limit evicts it.
        pin.Unpin();
        pin.Unpin();
        await using var third = NewManager("third");
        var thirdListener = await third.ListenAsync("tcp", "127.0.0.1:0");
        await using var keep = await client.DialAsync(thirdListener.Endpoint, Anyone(client));
        await pinned.Closed.WaitAsync(TestTimeout);
        Assert.Null(pinned.CloseReason);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task SideChannelFlowsDoNotCountAsUse()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client");
        await using var flow = await client.DialAsync(listener.Endpoint, Anyone(client));
        await flow.DisposeAsync();
        var connection = (ManagedConnection)flow.Connection;
        await WaitUntilAsync(() => connection.ActiveFlows == 0);
        var lastUsed = connection.LastUsed;
        await Task.Delay(20);
        var side = await client.DialSideChannelCachedAsync(listener.Endpoint, Anyone(client), connection);
        await side.WriteAsync(new byte[1000]);
        Assert.Equal(0, connection.ActiveFlows);
        Assert.Equal(lastUsed, connection.LastUsed);
    }
}
