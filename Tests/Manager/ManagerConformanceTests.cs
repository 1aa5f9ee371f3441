using System.Net;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Proxy.ProxyTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>Manager behaviours checked against Vanadium's <c>x/ref/runtime/internal/flow/manager</c> (issue 17).</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class ManagerConformanceTests
{
    [Fact]
    public async Task ADialOnlyManagerPresentsNamelessBlessingsByDefaultAsVanadiumDoes()
    {
        // Vanadium: a dialer with no flow handler sends only its public key, so the server learns no names; it still
        // judges the server by name.
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = DialOnly("client", o => { });

        var (flow, accepted) = await DialAndAcceptAsync(client, server, listener.Endpoint);
        Assert.True(accepted.RemoteBlessings.IsNameless);
        Assert.Equal(client.Principal.PublicKey, accepted.RemoteBlessings.PublicKey);
        Assert.Empty(accepted.Connection.RemoteBlessingNames);
        Assert.True(flow.LocalBlessings.IsNameless);
        Assert.Equal(["server"], flow.RemoteBlessings.Names);
    }

    [Fact]
    public async Task ADialOnlyManagerToldSoPresentsWhatBlessingsForPeerPicksAsAManagerWithARoutingIdDoes()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var revealing = DialOnly("revealing", o => o.NamelessWhenDialOnly = false);
        await using var bidirectional = NewManager("bidirectional");

        var (_, fromRevealing) = await DialAndAcceptAsync(revealing, server, listener.Endpoint);
        Assert.Equal(["revealing"], fromRevealing.RemoteBlessings.Names);
        var (_, fromBidirectional) = await DialAndAcceptAsync(bidirectional, server, listener.Endpoint);
        Assert.Equal(["bidirectional"], fromBidirectional.RemoteBlessings.Names);
    }

    [Fact]
    public async Task AcceptOnAManagerWithTheNullRoutingIdFailsAtOnce()
    {
        // Vanadium: Accept on a manager created with the null routing ID returns an error instead of blocking.
        await using var client = DialOnly("client", o => { });
        var e = await Assert.ThrowsAsync<FlowException>(() => client.AcceptAsync().AsTask()).WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadState, e.Code);
    }

    [Fact]
    public async Task StatusWithNoListenersIsTheBidiEndpointOfTheManagersRoutingId()
    {
        // Vanadium: Status with no listening endpoints reports {Protocol: bidi, RoutingID: the manager's}; a manager
        // with the null routing ID reports none.
        await using var manager = NewManager("m");
        var bidi = Assert.Single(manager.Status.Endpoints);
        Assert.Equal("bidi", bidi.Protocol);
        Assert.Equal(Endpoint.BidiProtocol, bidi.Protocol);
        Assert.Equal(manager.RoutingId, bidi.RoutingId);
        Assert.True(bidi.IsAddressless);
        Assert.Equal(bidi, Endpoint.Parse(bidi.ToString()));

        var listener = await manager.ListenAsync("tcp", "127.0.0.1:0");
        Assert.Equal(listener.Endpoints, manager.Status.Endpoints);
        await manager.StopListeningAsync();
        Assert.Equal([bidi], manager.Status.Endpoints);

        await using var dialOnly = DialOnly("d", o => { });
        Assert.Empty(dialOnly.Status.Endpoints);
    }

    [Fact]
    public async Task ABidiEndpointIsReachableOnlyOverAConnectionThePeerAlreadyHolds()
    {
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client");
        var clientBidi = Assert.Single(client.Status.Endpoints);

        await using var stranger = NewManager("stranger");
        var unreachable = await Assert.ThrowsAsync<FlowException>(() => stranger.DialAsync(clientBidi, Anyone(stranger)));
        Assert.Equal(FlowErrorCode.DialFailed, unreachable.Code);

        var (flow, _) = await DialAndAcceptAsync(client, server, listener.Endpoint);
        await using var back = await server.DialAsync(clientBidi, Anyone(server)).WaitAsync(TestTimeout);
        Assert.Same(flow.Connection, (await AcceptWithinAsync(client)).Connection);
    }

    [Fact]
    public async Task AFlowsRemoteAddressIsThePeersNetworkAddress()
    {
        // Vanadium: Flow.RemoteAddr is the remote address of the conn the flow runs on.
        await using var server = NewManager("server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0");
        await using var client = NewManager("client");
        var (flow, accepted) = await DialAndAcceptAsync(client, server, listener.Endpoint);

        Assert.Equal(IPEndPoint.Parse(listener.Endpoint.Address), flow.RemoteAddress);
        var clientSide = Assert.IsType<IPEndPoint>(accepted.RemoteAddress);
        Assert.Equal(IPAddress.Loopback, clientSide.Address);
        Assert.NotEqual(IPEndPoint.Parse(listener.Endpoint.Address).Port, clientSide.Port);
    }

    [Fact]
    public async Task AFlowThroughAProxyHasTheProxysAddressAsItsRemoteAddress()
    {
        // Vanadium: a proxied conn runs over a flow to the proxy, whose remote address it reports.
        var (proxy, proxyEndpoint) = await StartProxyAsync();
        await using var _ = proxy;
        await using var server = NewManager("server");
        var published = (await server.ProxyListenAsync("p", proxyEndpoint, Anyone(server)).WaitAsync(TestTimeout)).Endpoint;
        await using var client = NewManager("client");

        var (flow, accepted) = await DialAndAcceptAsync(client, server, published);
        Assert.Equal(IPEndPoint.Parse(proxyEndpoint.Address), flow.RemoteAddress);
        Assert.Equal(IPEndPoint.Parse(proxyEndpoint.Address), accepted.RemoteAddress); // the server's hop to the proxy
    }

    private static FlowManager DialOnly(string name, Action<FlowManagerOptions> configure)
    {
        var options = new FlowManagerOptions { Principal = NewPrincipal(name), RoutingId = RoutingId.Null };
        configure(options);
        return new FlowManager(options);
    }

    private static async Task<(IFlow Flow, IFlow Accepted)> DialAndAcceptAsync(FlowManager client, FlowManager server, Endpoint endpoint)
    {
        var flow = await client.DialAsync(endpoint, Anyone(client)).WaitAsync(TestTimeout);
        await flow.WriteAsync(new byte[] { 1 });
        var accepted = await AcceptWithinAsync(server);
        await ReadExactlyAsync(accepted, new byte[1]);
        return (flow, accepted);
    }

    private static async Task<IFlow> AcceptWithinAsync(FlowManager manager) => await manager.AcceptAsync().AsTask().WaitAsync(TestTimeout);
}
