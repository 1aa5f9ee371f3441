using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Manager.TrustNetwork;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// Issue 16 items 1 and 2: a routing ID is an address, not an identity. <c>root:mallory</c>, a genuine member of the
/// same root, claims alice's routing ID by connecting to the client first; no dial, cached dial, pin, pin reconnect
/// or side channel whose authorizer requires <c>root:alice</c> may reach him, and neither peer displaces the other.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class RoutingIdHijackTests
{
    private sealed record Scene(FlowManager Client, FlowManager Alice, FlowManager Mallory, Endpoint AliceEndpoint, Endpoint ClientEndpoint);

    private static async Task<Scene> SceneAsync(TrustNetwork net)
    {
        var alice = net.Manager(net.Blessed("alice"));
        var aliceListener = await alice.ListenAsync("memory", "alice");
        var mallory = net.Manager(net.Blessed("mallory"), o => o.RoutingId = alice.RoutingId);
        var client = net.Manager(net.Blessed("client"));
        var clientListener = await client.ListenAsync("memory", "client");
        return new Scene(client, alice, mallory, aliceListener.Endpoint, clientListener.Endpoint);
    }

    /// <summary>Mallory dials the client, claiming alice's routing ID, and waits until the client caches his connection.</summary>
    private static async Task<ManagedConnection> MalloryConnectsAsync(Scene s)
    {
        await using (await OpenAsync(s.Mallory, s.ClientEndpoint, Anyone(s.Mallory)))
        {
        }

        await WaitUntilAsync(() => ClientConnectionsTo(s, "root:mallory").Count == 1, () => $"{s.Client.Connections.Count} connections");
        return (ManagedConnection)ClientConnectionsTo(s, "root:mallory")[0];
    }

    /// <summary>Alice's and mallory's arrivals, in the order the test asks for.</summary>
    private static async Task InOrderAsync(bool aliceFirst, Func<Task> alice, Func<Task> mallory)
    {
        await (aliceFirst ? alice : mallory)();
        await (aliceFirst ? mallory : alice)();
    }

    /// <summary>Alice dials the client and waits until the client caches her connection, which claims her routing ID.</summary>
    private static async Task AliceConnectsAsync(Scene s)
    {
        await using (await OpenAsync(s.Alice, s.ClientEndpoint, Require(s.Alice, "root:client")))
        {
        }

        await WaitUntilAsync(() => ClientConnectionsTo(s, "root:alice").Count == 1, () => $"{s.Client.Connections.Count} connections");
    }

    private static List<Transport.Flows.IManagedConnection> ClientConnectionsTo(Scene s, string name) =>
        s.Client.Connections.Where(c => c.RemoteBlessings.Names.Contains(name)).ToList();

    /// <summary>Dials alice's published endpoint requiring her name, and checks that she, and only she, got the flow.</summary>
    private static async Task AssertReachesAliceAsync(Scene s)
    {
        await using var flow = await OpenAsync(s.Client, s.AliceEndpoint, Require(s.Client, "root:alice"));
        Assert.Equal("root:alice", Peer(flow));
        await using var accepted = await s.Alice.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal("root:client", Peer(accepted));
    }

    [Fact]
    public async Task ADialRequiringAliceNeverReachesAnImpostorHoldingHerRoutingId()
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        await MalloryConnectsAsync(s);

        await AssertReachesAliceAsync(s);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BothClaimantsOfARoutingIdStayReachableEachOnlyByAnAuthorizerThatAcceptsIt(bool aliceFirst)
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        await InOrderAsync(aliceFirst, () => AssertReachesAliceAsync(s), () => MalloryConnectsAsync(s));

        // Her cached connection is found again (not displaced, not dialed anew), by her address and by the ID alone.
        await AssertReachesAliceAsync(s);
        await using (var byId = await OpenAsync(s.Client, Endpoint.ForRoutingId(s.Alice.RoutingId), Require(s.Client, "root:alice")))
        {
            Assert.Equal("root:alice", Peer(byId));
        }

        Assert.Single(ClientConnectionsTo(s, "root:alice"));

        // Nor did she displace him: a caller who wants whoever is root:mallory under that ID still finds his connection.
        await using var toMallory = await OpenAsync(s.Client, Endpoint.ForRoutingId(s.Alice.RoutingId), Require(s.Client, "root:mallory"));
        Assert.Equal("root:mallory", Peer(toMallory));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APeerReachableOnlyOverTheConnectionItMadeStaysReachableWhateverAnImpostorOfItsRoutingIdDoes(bool aliceFirst)
    {
        // Alice dials the client (as a peer behind a NAT would); the client has no address of hers to dial.
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        await InOrderAsync(aliceFirst, () => AliceConnectsAsync(s), () => MalloryConnectsAsync(s));

        var hers = Assert.Single(ClientConnectionsTo(s, "root:alice"));
        await using var flow = await OpenAsync(s.Client, Endpoint.ForRoutingId(s.Alice.RoutingId), Require(s.Client, "root:alice"));
        Assert.Same(hers, flow.Connection);
        await using var accepted = await s.Alice.AcceptAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal("root:client", Peer(accepted));
        Assert.Equal(2, s.Client.Connections.Count); // nothing was dialed: both claimants are kept, neither replaced
    }

    [Fact]
    public async Task ADialByRoutingIdAloneRefusesWhenOnlyAnUnacceptedClaimantIsCached()
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        await MalloryConnectsAsync(s);

        var e = await Assert.ThrowsAsync<FlowException>(
            () => s.Client.DialAsync(Endpoint.ForRoutingId(s.Alice.RoutingId), Require(s.Client, "root:alice")).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public async Task DialCachedRunsTheAuthorizerOnTheCachedConnection()
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        await MalloryConnectsAsync(s);

        var e = await Assert.ThrowsAsync<FlowException>(
            () => s.Client.DialCachedAsync(s.AliceEndpoint, Require(s.Client, "root:alice")).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);

        await AssertReachesAliceAsync(s);
        await using var cached = await s.Client.DialCachedAsync(s.AliceEndpoint, Require(s.Client, "root:alice")).WaitAsync(TestTimeout);
        Assert.Equal("root:alice", Peer(cached));
    }

    [Fact]
    public async Task APinAndItsReconnectsReachOnlyAConnectionItsAuthorizerAccepts()
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        await MalloryConnectsAsync(s);

        var pin = await s.Client.PinConnectionAsync(s.AliceEndpoint, Require(s.Client, "root:alice")).WaitAsync(TestTimeout);
        Assert.Equal(["root:alice"], pin.Connection.RemoteBlessings.Names);

        var first = (ManagedConnection)pin.Connection;
        await first.CloseAsync("dropped by the test");
        await WaitUntilAsync(() => pin.Reconnects >= 1, () => $"{pin.Reconnects} reconnects");

        Assert.NotSame(first, pin.Connection);
        Assert.Equal(["root:alice"], pin.Connection.RemoteBlessings.Names);
        pin.Unpin();
    }

    [Fact]
    public async Task ASideChannelRunsTheAuthorizerOnTheConnectionItIsGiven()
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        var mallorys = await MalloryConnectsAsync(s);

        var e = await Assert.ThrowsAsync<FlowException>(
            () => s.Client.DialSideChannelCachedAsync(s.AliceEndpoint, Require(s.Client, "root:alice"), mallorys).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);

        await using var side = await s.Client.DialSideChannelCachedAsync(s.AliceEndpoint, Require(s.Client, "root:mallory"), mallorys).WaitAsync(TestTimeout);
        Assert.Equal("root:mallory", Peer(side));
    }

    [Fact]
    public async Task AConnectionCachedByAddressIsReusedOnlyForAnAuthorizerThatAcceptsItsPeer()
    {
        await using var net = new TrustNetwork();
        var s = await SceneAsync(net);
        var door = Endpoint.Create("memory", "door");
        await s.Mallory.ListenAsync("memory", "door");

        await using (var first = await OpenAsync(s.Client, door, Anyone(s.Client)))
        {
            Assert.Equal("root:mallory", Peer(first));
        }

        // The address is mallory's: a dial that requires alice dials anew, and the handshake refuses him.
        var e = await Assert.ThrowsAsync<FlowException>(() => s.Client.DialAsync(door, Require(s.Client, "root:alice")).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public async Task ADialJoiningAnotherCallersDialStillRunsItsOwnAuthorizer()
    {
        await using var net = new TrustNetwork();
        var gate = new GatedProtocol(net.Protocols.Get("memory").Protocol);
        net.Protocols.Register("gated", gate);
        var s = await SceneAsync(net);
        await s.Mallory.ListenAsync("gated", "door");
        var door = Endpoint.Create("gated", "door");

        var lenient = s.Client.DialAsync(door, Anyone(s.Client));
        await gate.Entered.WaitAsync(TestTimeout);
        var strict = s.Client.DialAsync(door, Require(s.Client, "root:alice"));
        gate.Open();

        await using var flow = await lenient.WaitAsync(TestTimeout);
        Assert.Equal("root:mallory", Peer(flow));
        var e = await Assert.ThrowsAsync<FlowException>(() => strict.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    /// <summary>A protocol whose dials wait until the test opens the gate, so a second dial can join the first.</summary>
    private sealed class GatedProtocol(IProtocol inner) : IProtocol
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public void Open() => _open.TrySetResult();

        public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
        {
            _entered.TrySetResult();
            await _open.Task.WaitAsync(ct);
            return await inner.DialAsync("memory", address, timeout, ct);
        }

        public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default) =>
            inner.ResolveAsync(protocol, address, ct);

        public ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default) =>
            inner.ListenAsync("memory", address, ct);
    }
}
