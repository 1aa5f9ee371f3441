using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Manager.TrustNetwork;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// Issue 16 item 3: flows a peer opens reach <c>AcceptAsync</c> only if the manager's <c>AcceptorAuthorizer</c> accepts
/// that peer, over connections the manager accepted and over connections it dialed alike.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ReverseFlowAuthorizationTests
{
    [Fact]
    public async Task APeerTheAcceptorRefusesCannotOpenFlowsBackOverAConnectionTheServerDialed()
    {
        await using var net = new TrustNetwork();
        var server = ServerRequiring(net, "root:alice");
        var serverEndpoint = (await server.ListenAsync("memory", "server")).Endpoint;
        var mallory = net.Manager(net.Blessed("mallory"));
        var malloryEndpoint = (await mallory.ListenAsync("memory", "mallory")).Endpoint;
        var alice = net.Manager(net.Blessed("alice"));

        // Directly, the server refuses him.
        var direct = await Assert.ThrowsAsync<FlowException>(() => mallory.DialAsync(serverEndpoint, Anyone(mallory)).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, direct.Code);

        // The server dials him (it may talk to whom it likes), and he opens a flow back over that connection.
        await using var outbound = await OpenAsync(server, malloryEndpoint, Anyone(server));
        await using var accepted = await mallory.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        await using var back = await OpenAsync(mallory, Endpoint.ForRoutingId(server.RoutingId), Anyone(mallory));
        Assert.Equal("root:server", Peer(back));

        // The next flow the server's application sees is alice's, not his; his is refused as not trusted.
        await using var fromAlice = await OpenAsync(alice, serverEndpoint, Anyone(alice));
        await using var first = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal("root:alice", Peer(first));
        var refused = await RefusedAsync(back);
        Assert.Equal(FlowErrorCode.NotTrusted, refused.Code);
        Assert.DoesNotContain("root:alice", refused.Message, StringComparison.Ordinal);

        // The connection itself stays up for the server's own flows.
        await outbound.WriteAsync(new byte[] { 2 });
        Assert.Equal(1, await accepted.ReadAsync(new byte[1]).AsTask().WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task APeerTheAcceptorAcceptsMayOpenFlowsBackOverAConnectionTheServerDialed()
    {
        await using var net = new TrustNetwork();
        var server = ServerRequiring(net, "root:alice");
        var alice = net.Manager(net.Blessed("alice"));
        var aliceEndpoint = (await alice.ListenAsync("memory", "alice")).Endpoint;

        await using var outbound = await OpenAsync(server, aliceEndpoint, Anyone(server));
        await using var back = await OpenAsync(alice, Endpoint.ForRoutingId(server.RoutingId), Anyone(alice));

        await using var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal("root:alice", Peer(accepted));
        Assert.Same(outbound.Connection, accepted.Connection);
    }

    /// <summary><c>root:server</c>, whose acceptor authorizer admits only peers matching <paramref name="pattern"/>.</summary>
    private static FlowManager ServerRequiring(TrustNetwork net, string pattern)
    {
        var principal = net.Blessed("server");
        return net.Manager(principal, o => o.AcceptorAuthorizer = PeerAuthorizers.RequireBlessings(principal, pattern));
    }
}
