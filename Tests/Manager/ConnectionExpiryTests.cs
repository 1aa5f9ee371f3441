using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Manager.TrustNetwork;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// Issue 16 item 4: caveats keep holding after the handshake. When the blessings a peer was accepted under expire, the
/// connection stops carrying new flows and closes with <see cref="FlowErrorCode.NotTrusted"/>, and no dial reuses it.
/// Each side watches its peer on its own manager's clock.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionExpiryTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private static void OnClock(FlowManagerOptions options, TimeProvider clock)
    {
        options.TimeProvider = clock;
        options.DialTimeout = TimeSpan.FromDays(3);
        options.Connection = new ConnectionOptions { ChannelTimeout = TimeSpan.FromDays(3) };
    }

    [Fact]
    public async Task TheAcceptorClosesTheConnectionWhenTheDialersBlessingsExpireAndRefusesItAfterwards()
    {
        await using var net = new TrustNetwork();
        var serverClock = new FakeTimeProvider();
        var serverPrincipal = net.Blessed("server");
        var server = net.Manager(serverPrincipal, o =>
        {
            OnClock(o, serverClock);
            o.AcceptorAuthorizer = PeerAuthorizers.RequireBlessings(serverPrincipal, "root:phone");
        });
        var serverEndpoint = (await server.ListenAsync("memory", "server")).Endpoint;
        var phone = net.Manager(net.Blessed("phone", Caveat.Expiry(serverClock.GetUtcNow() + Lifetime)));

        await using var before = await OpenAsync(phone, serverEndpoint, Anyone(phone));
        await using var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        var serverSide = (ManagedConnection)accepted.Connection;
        var phoneSide = (ManagedConnection)before.Connection;

        serverClock.Advance(Lifetime + TimeSpan.FromSeconds(1));

        await serverSide.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, serverSide.CloseReason?.Code);
        await phoneSide.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, phoneSide.CloseReason?.Code);

        // A new connection with the same, now expired, blessings is refused at the handshake.
        var again = await Assert.ThrowsAsync<FlowException>(() => phone.DialAsync(serverEndpoint, Anyone(phone)).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, again.Code);
    }

    [Fact]
    public async Task TheDialerNeverReusesAConnectionWhoseAcceptorsBlessingsExpired()
    {
        await using var net = new TrustNetwork();
        var clientClock = new FakeTimeProvider();
        var server = net.Manager(net.Blessed("server", Caveat.Expiry(clientClock.GetUtcNow() + Lifetime)));
        var serverEndpoint = (await server.ListenAsync("memory", "server")).Endpoint;
        var client = net.Manager(net.Blessed("client"), o => OnClock(o, clientClock));

        await using (var first = await OpenAsync(client, serverEndpoint, Require(client, "root:server")))
        {
            Assert.Equal("root:server", Peer(first));
        }

        var cached = (ManagedConnection)Assert.Single(client.Connections);
        clientClock.Advance(Lifetime + TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<FlowException>(() => client.DialAsync(serverEndpoint, Require(client, "root:server")).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
        await cached.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, cached.CloseReason?.Code);
    }

    [Fact]
    public async Task BlessingsWithoutExpiryKeepTheirConnectionHoweverLongItLives()
    {
        await using var net = new TrustNetwork();
        var clock = new FakeTimeProvider();
        var server = net.Manager(net.Blessed("server"), o => OnClock(o, clock));
        var serverEndpoint = (await server.ListenAsync("memory", "server")).Endpoint;
        var client = net.Manager(net.Blessed("client"), o => OnClock(o, clock));
        await using var first = await OpenAsync(client, serverEndpoint, Require(client, "root:server"));
        await using var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);

        clock.Advance(TimeSpan.FromDays(2));

        await using var second = await OpenAsync(client, serverEndpoint, Require(client, "root:server"));
        Assert.Same(first.Connection, second.Connection);
        await using var acceptedSecond = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Same(accepted.Connection, acceptedSecond.Connection);
    }
}
