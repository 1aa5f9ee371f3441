using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// The cache keeps every connection that claims a routing ID, filed by the claimant's key, and hands one out only to an
/// authorizer that accepts its peer (docs/architecture.md 2.1).
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionCacheClaimTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly List<ManagedConnection> _connections = [];
    private readonly Principal _me = NewPrincipal("me");
    private readonly Principal _a = NewPrincipal("a");
    private readonly Principal _b = NewPrincipal("b");
    private readonly RoutingId _claimed = RoutingId.NewRandom();

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        _me.Dispose();
        _a.Dispose();
        _b.Dispose();
    }

    /// <summary>A connection to <paramref name="peer"/>, whose Setup claims <see cref="_claimed"/>.</summary>
    private async Task<ManagedConnection> ClaimantAsync(Principal peer, Action<ManagedConnection>? beforeStart = null)
    {
        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        await using var _ = listener;
        var accept = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = peer,
            Authorizer = PeerAuthorizers.AllowEveryone(peer),
            LocalEndpoint = Endpoint.Create("memory", "peer", _claimed),
        });
        var dial = ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = _me,
            Authorizer = PeerAuthorizers.AllowEveryone(_me),
            LocalEndpoint = LocalEndpoint(),
            BeforeStart = beforeStart,
        });
        _connections.Add(await accept.WaitAsync(TestTimeout));
        var mine = await dial.WaitAsync(TestTimeout);
        _connections.Add(mine);
        return mine;
    }

    private static (ManagedConnection? Connection, bool Refused) Outcome(CacheLookup lookup) => (lookup.Connection, lookup.Refused);

    private IPeerAuthorizer Anyone => PeerAuthorizers.AllowEveryone(_me);

    private KeyAuthorizer Only(Principal peer) => new(_me, peer.PublicKey);

    [Fact]
    public async Task EveryClaimantIsKeptAndFoundOnlyByAnAuthorizerThatAcceptsIt()
    {
        var cache = new ConnectionCache();
        var a1 = await ClaimantAsync(_a);
        var b1 = await ClaimantAsync(_b);
        var a2 = await ClaimantAsync(_a);
        Assert.True(cache.Add(a1, addressKey: null));
        Assert.True(cache.Add(b1, addressKey: null));
        Assert.True(cache.Add(a2, addressKey: null));
        var byId = Endpoint.ForRoutingId(_claimed);

        // Keys in the order they first claimed the ID, each key's newest connection first.
        Assert.Same(a2, (await cache.FindAsync(byId, Anyone, Now, default)).Connection);
        Assert.Same(b1, (await cache.FindAsync(byId, Only(_b), Now, default)).Connection);
        Assert.Equal((null, true), Outcome(await cache.FindAsync(byId, new KeyAuthorizer(_me, _me.PublicKey), Now, default)));
        Assert.Equal((null, false), Outcome(await cache.FindAsync(Endpoint.ForRoutingId(RoutingId.NewRandom()), Anyone, Now, default)));

        // A claimant that closes leaves the others where they were.
        await a2.CloseAsync();
        Assert.Same(a1, (await cache.FindAsync(byId, Anyone, Now, default)).Connection);
        await a1.CloseAsync();
        Assert.Same(b1, (await cache.FindAsync(byId, Anyone, Now, default)).Connection);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task AConnectionDialedAtTheRequestedAddressComesBeforeOtherClaimants()
    {
        var cache = new ConnectionCache();
        var accepted = await ClaimantAsync(_a);
        var dialed = await ClaimantAsync(_b);
        Assert.True(cache.Add(accepted, addressKey: null));
        Assert.True(cache.Add(dialed, addressKey: ("memory", "b-address")));

        Assert.Same(dialed, (await cache.FindAsync(Endpoint.Create("memory", "b-address", _claimed), Anyone, Now, default)).Connection);
        Assert.Same(dialed, (await cache.FindAsync(Endpoint.Create("memory", "b-address"), Anyone, Now, default)).Connection);
        Assert.Same(accepted, (await cache.FindAsync(Endpoint.ForRoutingId(_claimed), Anyone, Now, default)).Connection);
        Assert.Same(accepted, (await cache.FindAsync(Endpoint.Create("memory", "b-address", _claimed), Only(_a), Now, default)).Connection);
    }

    [Fact]
    public async Task ADialWhoseLookupAConnectionArrivedSinceStartsNothingSoTheCallerLooksAgain()
    {
        var cache = new ConnectionCache();
        var address = Endpoint.Create("memory", "b-address", _claimed);
        var lookup = await cache.FindAsync(address, Anyone, Now, default);
        Assert.Null(lookup.Connection);
        var dialed = await ClaimantAsync(_b);
        Assert.True(cache.Add(dialed, addressKey: ("memory", "b-address"))); // another caller's dial finished meanwhile

        var dials = 0;
        async Task<ManagedConnection> Dial(Action<ManagedConnection> file)
        {
            dials++;
            var connection = await ClaimantAsync(_b);
            file(connection);
            return connection;
        }

        var (stale, _) = cache.GetOrDial(address, Dial, lookup.Generation);
        Assert.Null(stale);
        Assert.Equal(0, dials);
        var again = await cache.FindAsync(address, Anyone, Now, default);
        Assert.Same(dialed, again.Connection);

        // A current lookup, or none, dials.
        var (current, joined) = cache.GetOrDial(address, Dial, again.Generation);
        Assert.NotNull(current);
        Assert.False(joined);
        Assert.Equal(1, dials);
        Assert.NotSame(dialed, await current.WaitAsync(TestTimeout));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public async Task ADialedConnectionIsFiledWhenTheHandshakeHandsItOverNotWhenTheDialReturns()
    {
        // A flow the peer opens back at once may be accepted, and the peer dialed back by routing ID, before the dial
        // returns: the connection must be in the cache by the time it reads anything.
        var cache = new ConnectionCache();
        var loopsWhenFiled = -1L;
        ManagedConnection? foundBeforeTheDialReturned = null;
        async Task<ManagedConnection> Dial(Action<ManagedConnection> file)
        {
            var connection = await ClaimantAsync(_b, beforeStart: established =>
            {
                file(established);
                loopsWhenFiled = established.Counters.RunningLoops;
            });
            foundBeforeTheDialReturned = (await cache.FindAsync(Endpoint.ForRoutingId(_claimed), Anyone, Now, default)).Connection;
            return connection;
        }

        var (dial, _) = cache.GetOrDial(Endpoint.Create("memory", "b-address", _claimed), Dial);
        var dialed = await dial!.WaitAsync(TestTimeout);

        Assert.Equal(0, loopsWhenFiled);
        Assert.Same(dialed, foundBeforeTheDialReturned);
        Assert.Equal(1, cache.Count);
    }

    /// <summary>Accepts exactly one key: what an application pinning a peer's identity would do.</summary>
    private sealed class KeyAuthorizer(Principal self, PublicKey accepted) : IPeerAuthorizer
    {
        public ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken) =>
            accepted.Equals(context.RemoteBlessings.PublicKey)
                ? ValueTask.FromResult(new PeerAuthorization([], []))
                : throw new FlowException(FlowErrorCode.NotTrusted, "Not the expected key.");

        public (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames) =>
            (self.DefaultBlessings, Discharges.Empty);
    }
}
