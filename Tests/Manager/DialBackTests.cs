using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Manager.TrustNetwork;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// Bidirectional flows (Vanadium's manager): a server reaches the caller of a flow it accepted by the caller's routing
/// ID, over the connection that carried the flow, even when the caller does not listen.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class DialBackTests
{
    [Fact]
    public async Task AServerReachesTheCallerOfAFlowByRoutingIdAsSoonAsItAcceptedTheFlow()
    {
        // The connection is filed in the server's cache before it reads, so the flow cannot be accepted first. It used
        // to be filed after its read loop started: a flow that arrived with the end of the handshake could be accepted,
        // and the dial back fail with "no connection cached", before the filing (seen in a clean-clone test run). The
        // window was narrow, so many connections are tried.
        await using var net = new TrustNetwork();
        await using var server = net.Manager(net.Blessed("server"));
        var endpoint = (await server.ListenAsync("memory", "server")).Endpoint;
        for (var i = 0; i < 100; i++)
        {
            await using var caller = net.Manager(net.Blessed("caller"));
            await using var flow = await OpenAsync(caller, endpoint, Anyone(caller));
            await using var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
            await using var back = await server.DialCachedAsync(Endpoint.ForRoutingId(caller.RoutingId), Anyone(server)).WaitAsync(TestTimeout);
            Assert.Same(accepted.Connection, back.Connection);
        }
    }

    [Fact]
    public async Task AConnectionIsHandedToItsOwnerBeforeItReadsAnything()
    {
        // What the manager's filing relies on: BeforeStart sees a connection none of whose loops has started, so no
        // flow it carries can have been offered yet.
        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        await using var _l = listener;
        var acceptor = NewPrincipal("acceptor");
        var dialer = NewPrincipal("dialer");
        var loopsAtHandover = -1L;
        var accept = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = acceptor,
            Authorizer = PeerAuthorizers.AllowEveryone(acceptor),
            LocalEndpoint = LocalEndpoint(),
            BeforeStart = connection => loopsAtHandover = connection.Counters.RunningLoops,
        });
        await using var dial = await ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = PeerAuthorizers.AllowEveryone(dialer),
            LocalEndpoint = LocalEndpoint(),
        }).WaitAsync(TestTimeout);
        await using var acceptorSide = await accept.WaitAsync(TestTimeout);

        Assert.Equal(0, loopsAtHandover);
        Assert.True(acceptorSide.Counters.RunningLoops > 0);
    }
}
