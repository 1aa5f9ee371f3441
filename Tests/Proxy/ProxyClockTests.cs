using FlowOrleans.Tests.Manager;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Proxy.ProxyTestKit;

namespace FlowOrleans.Tests.Proxy;

/// <summary>The proxy and a manager's proxy registration run on their own clocks.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class ProxyClockTests
{
    private static readonly TimeSpan FirstMessageTimeout = TimeSpan.FromMinutes(9);

    [Fact]
    public async Task AFailedRegistrationIsRetriedWhenTheBackoffPassesOnTheManagersClock()
    {
        var clock = new ObservedClock();
        var network = ManagerClockTests.MemoryNetwork();
        await using var server = new FlowManager(ManagerClockTests.OnClock(clock, network, "server"));
        var proxyEndpoint = Endpoint.Create("memory", "proxy");

        // Nothing listens there yet: the first attempt fails and the next waits for the backoff.
        await server.ProxyListenAsync("p", proxyEndpoint, Anyone(server));
        Assert.True(HasFailed(server.Status, "p"));
        var backoffMin = ManagerClockTests.BackoffMin;
        await clock.WaitForTimerAsync(due => due >= backoffMin / 2 && due <= backoffMin * 1.5);
        await using var proxy = new ProxyServer(new ProxyServerOptions { Principal = NewPrincipal("proxy"), Protocols = network });
        await proxy.ListenAsync("memory", "proxy");

        clock.Advance(backoffMin * 1.5);

        await WaitForStatusAsync(server, s => IsRegistered(s, "p"));
    }

    [Fact]
    public async Task TheProxyAuthorizesServersAtItsClocksTimeAndItsConnectionsRunOnIt()
    {
        var clock = new ObservedClock();
        var network = ManagerClockTests.MemoryNetwork();
        var authorizer = new RecordingAuthorizer();
        var (proxy, proxyEndpoint) = await StartOnClockAsync(clock, network, o => o.ServerAuthorizer = authorizer);
        await using var _ = proxy;
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("server"), Protocols = network });

        await server.ProxyListenAsync("p", proxyEndpoint, Anyone(server));

        Assert.True(IsRegistered(server.Status, "p"), server.Status.ProxyErrors["p"]?.ToString());
        Assert.Equal([clock.GetUtcNow()], authorizer.Times);
        Assert.Contains(new ConnectionOptions().HandshakeTimeout, clock.DueTimes); // the proxy's side of the handshake ran on it
    }

    [Fact]
    public async Task AFlowThatSaysNothingIsDroppedWhenTheFirstMessageTimeoutPassesOnTheProxysClock()
    {
        var clock = new ObservedClock();
        var network = ManagerClockTests.MemoryNetwork();
        var (proxy, proxyEndpoint) = await StartOnClockAsync(clock, network, o => o.FirstMessageTimeout = FirstMessageTimeout);
        await using var _ = proxy;
        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("client"), Protocols = network });
        await using var flow = await client.DialAsync(proxyEndpoint, Anyone(client));
        flow.DisableFragmentation();

        // The first piece of a frame whose rest never comes: the proxy cannot tell yet what the flow is for.
        await flow.WriteMessageAsync([new byte[] { FlowFramedConnection.MorePieces, 0 }]);
        await clock.WaitForTimerAsync(due => due == FirstMessageTimeout);
        Assert.False(flow.Connection.Closed.IsCompleted);
        clock.Advance(FirstMessageTimeout);

        Assert.Null(await flow.ReadMessageAsync().AsTask().WaitAsync(TestTimeout));
    }

    /// <summary>A proxy listening on the memory network, on <paramref name="clock"/>; its connections never time out while the test moves it.</summary>
    private static async Task<(ProxyServer Proxy, Endpoint Endpoint)> StartOnClockAsync(
        TimeProvider clock, ProtocolRegistry network, Action<ProxyServerOptions> configure)
    {
        var options = new ProxyServerOptions
        {
            Principal = NewPrincipal("proxy"),
            Protocols = network,
            TimeProvider = clock,
            Connection = new ConnectionOptions { ChannelTimeout = TimeSpan.FromDays(1) },
        };
        configure(options);
        var proxy = new ProxyServer(options);
        return (proxy, await proxy.ListenAsync("memory", "proxy"));
    }

    /// <summary>Accepts every server and records the time each was judged at.</summary>
    private sealed class RecordingAuthorizer : IPeerAuthorizer
    {
        private readonly List<DateTimeOffset> _times = [];

        public IReadOnlyList<DateTimeOffset> Times
        {
            get
            {
                lock (_times)
                {
                    return [.. _times];
                }
            }
        }

        public ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken)
        {
            lock (_times)
            {
                _times.Add(context.Now);
            }

            return new(new PeerAuthorization(context.RemoteBlessings.Names, []));
        }

        public (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames) =>
            throw new NotSupportedException("a server authorizer only judges");
    }
}
