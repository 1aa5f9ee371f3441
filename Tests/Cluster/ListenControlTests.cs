using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Tests.Proxy;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A one-silo development cluster of its own for the verbs that change where a silo accepts flows (stopping its
/// listeners, registering it with a proxy): they would disturb the shared cluster's other tests.
/// </summary>
public sealed class ListenControlFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public FlowClient Flows { get; private set; } = null!;

    internal SiloParts Host => SiloParts.Of(Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress));

    /// <summary>The silo's transport grain as the silo itself reaches it (its hosted client), allowed silo-only methods.</summary>
    internal ISiloFlowGrain AsSilo => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress)
        .GetRequiredService<IGrainFactory>().GetGrain<ISiloFlowGrain>(Host.SiloKey);

    public async ValueTask InitializeAsync()
    {
        Cluster = await ClusterFixture.StartAsync(1);
        Flows = new FlowClient(Cluster.Client);
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class ListenControlTests(ListenControlFixture fixture) : IClassFixture<ListenControlFixture>
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TestTimeout).Token;

    private static FlowManager NewOutsidePeer(string name) => new(new FlowManagerOptions { Principal = NewPrincipal(name) });

    /// <summary>The silo's own tcp listening endpoint (not one a proxy published).</summary>
    private Endpoint DirectEndpoint() => fixture.Host.Endpoints.First(e => e.Protocol == "tcp" && e.Routes.Count == 0);

    /// <summary>Opens a flow from <paramref name="peer"/> to <paramref name="endpoint"/> and checks a client of the cluster accepts it.</summary>
    private static async Task<(IFlow Outbound, ClusterFlowStream Accepted)> AcceptedAsync(FlowAcceptor acceptor, FlowManager peer, Endpoint endpoint, string text, CancellationToken ct)
    {
        var outbound = await peer.DialAsync(endpoint, PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await outbound.WriteMessageAsync([System.Text.Encoding.UTF8.GetBytes(text)], ct);
        var accepted = await acceptor.AcceptAsync(ct);
        Assert.Equal(peer.RoutingId, accepted.Handle.RemoteEndpoint.RoutingId);
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString((await accepted.ReadMessageAsync(ct))!));
        return (outbound, accepted);
    }

    [Fact]
    public async Task StopListeningThroughTheGrainPutsCachedConnectionsInLameDuckAndOnlyASiloMayAskIt()
    {
        // Vanadium's StopListening: listeners close and every cached connection enters lame duck, so a peer's new dial
        // fails even where it caches a connection; flows already open go on, and listening again works.
        var ct = Timeout();
        await using var acceptor = await fixture.Flows.ListenAsync();
        await using var peer = NewOutsidePeer("lame-duck-peer");
        var endpoint = DirectEndpoint();

        var refused = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.GetSilo(fixture.Host.SiloKey).StopListeningAsync(ct));
        Assert.Equal(FlowErrorCode.NotTrusted, refused.Code);
        var (outbound, open) = await AcceptedAsync(acceptor, peer, endpoint, "before", ct); // the refused call changed nothing
        await using var _ = outbound;
        await using var __ = open;

        await fixture.AsSilo.StopListeningAsync(ct);
        Assert.DoesNotContain(endpoint, fixture.Host.Endpoints);
        await Assert.ThrowsAsync<FlowException>(() => peer.DialAsync(endpoint, PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct));

        await open.WriteMessageAsync("still open"u8.ToArray(), ct);
        Assert.Equal("still open"u8.ToArray(), await outbound.ReadMessageAsync(ct));

        var again = await fixture.Flows.GetSilo(fixture.Host.SiloKey).ListenAsync(new ListenAddress("tcp", "127.0.0.1:0"), ct);
        var (outboundAgain, afterwards) = await AcceptedAsync(acceptor, peer, again, "after", ct);
        await outboundAgain.DisposeAsync();
        await afterwards.DisposeAsync();
    }

    [Fact]
    public async Task ProxyListenThroughTheGrainRegistersTheSiloAndItsForwardedFlowsAreAcceptedButNotForClients()
    {
        // Vanadium's ProxyListen: the manager registers with the proxy and accepts the flows it forwards, which peers
        // open by dialing the endpoint the proxy published.
        var ct = Timeout();
        var (proxy, proxyEndpoint) = await ProxyTestKit.StartProxyAsync();
        await using var _ = proxy;
        await using var acceptor = await fixture.Flows.ListenAsync();
        await using var peer = NewOutsidePeer("proxied-peer");

        var refused = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.GetSilo(fixture.Host.SiloKey).ProxyListenAsync("by-client", proxyEndpoint, [], ct));
        Assert.Equal(FlowErrorCode.NotTrusted, refused.Code);
        Assert.Empty(proxy.Servers);

        var published = await fixture.AsSilo.ProxyListenAsync("proxy-" + Guid.NewGuid().ToString("N")[..8], proxyEndpoint, [], ct);
        Assert.Equal([proxy.RoutingId.ToString()], published.Routes);
        Assert.Contains(published, fixture.Host.Endpoints);
        var (outbound, accepted) = await AcceptedAsync(acceptor, peer, published, "through the proxy", ct);
        await outbound.DisposeAsync();
        await accepted.DisposeAsync();

        // Leave the silo as it was: stopping ends the proxy registration too, then the silo listens directly again.
        await fixture.AsSilo.StopListeningAsync(ct);
        Assert.DoesNotContain(published, fixture.Host.Endpoints);
        await fixture.Flows.GetSilo(fixture.Host.SiloKey).ListenAsync(new ListenAddress("tcp", "127.0.0.1:0"), ct);
    }
}
