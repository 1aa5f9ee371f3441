using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Time.Testing;
using System.Buffers;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// Discharges end to end, after Vanadium's conn: presented in the handshake for the third-party caveats of the
/// presented blessings, validated by the other side and exposed as its remote discharges, and refreshed on the live
/// connection (its blessingsLoop) without disturbing flows.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class DischargeTests : IDisposable
{
    private readonly Principal _root = NewPrincipal("root");
    private readonly Principal _discharger = Principal.CreateInMemory();
    private readonly Principal _alice = Principal.CreateInMemory();
    private readonly Principal _server = NewPrincipal("server");
    private readonly ThirdPartyCaveat _caveat;

    public DischargeTests()
    {
        _caveat = ThirdPartyCaveat.Create(_discharger.PublicKey, "/discharger", ThirdPartyRequirements.None, Caveat.Unconstrained);
        _alice.DefaultBlessings = _root.Bless(_alice.PublicKey, _root.DefaultBlessings, "alice", _caveat);
        _server.Roots.AddRootsOf(_root.DefaultBlessings);
    }

    public void Dispose()
    {
        foreach (var principal in new[] { _root, _discharger, _alice, _server })
        {
            principal.Dispose();
        }
    }

    [Fact]
    public async Task APeerPresentsDischargesForItsThirdPartyCaveatsInTheHandshakeAndTheOtherSideExposesThem()
    {
        var discharge = Mint(DateTimeOffset.UtcNow.AddHours(1));
        _alice.CacheDischarge(discharge);
        await using var peers = await ConnectAliceAsync();

        Assert.Equal(["root:alice"], peers.Acceptor.RemoteBlessingNames);
        Assert.Equal(discharge, Assert.Single(peers.Acceptor.RemoteDischarges).Value);
        Assert.Equal(discharge, Assert.Single(peers.Dialer.LocalDischarges).Value);
        var (_, accepted) = await OpenAcceptedAsync(peers);
        Assert.Equal(discharge, Assert.Single(accepted.RemoteDischarges).Value);
    }

    [Fact]
    public async Task WithoutItsDischargeAThirdPartyCaveatIsUnmetAndTheNameIsRefused()
    {
        var e = await Assert.ThrowsAsync<FlowException>(ConnectAliceAsync);
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public async Task AFreshDischargeReplacesTheExpiringOneOnALiveConnectionWithoutBreakingItsFlows()
    {
        // Vanadium's blessingsLoop: new discharges go to the peer over the live conn, which replaces its remote ones.
        var expiring = Mint(DateTimeOffset.UtcNow.AddMinutes(10));
        _alice.CacheDischarge(expiring);
        await using var peers = await ConnectAliceAsync();
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        await flow.WriteAsync(new byte[] { 1 });
        await ReadExactlyAsync(accepted, new byte[1]);

        var fresh = Mint(DateTimeOffset.UtcNow.AddHours(2));
        _alice.CacheDischarge(fresh);
        await WaitUntilAsync(() => peers.Acceptor.RemoteDischarges.TryGetValue(_caveat.DischargeId, out var d) && d.Equals(fresh),
            () => "the acceptor still has " + string.Join(", ", peers.Acceptor.RemoteDischarges.Values));
        Assert.Equal(fresh, peers.Dialer.LocalDischarges[_caveat.DischargeId]);
        Assert.Equal(fresh, accepted.RemoteDischarges[_caveat.DischargeId]);
        Assert.Equal(["root:alice"], peers.Acceptor.RemoteBlessingNames);

        // The flow opened before the refresh carries on, both ways.
        await flow.WriteAsync(new byte[] { 2 });
        await ReadExactlyAsync(accepted, new byte[1]);
        await accepted.WriteMessageAndCloseAsync([new byte[] { 3 }]);
        Assert.Equal(new byte[] { 3 }, await ReadToEndAsync(flow));
        Assert.True(peers.Dialer.IsUsable);
    }

    [Fact]
    public async Task DischargesAreRefreshedHalfwayThroughTheirRemainingLifeOnTheConnectionsClock()
    {
        // Vanadium refreshes at DischargeRefreshFraction (0.5) of a discharge's life, asking for discharges again.
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var source = new DischargeSource(_alice, Discharges.Create(Mint(clock.GetUtcNow().AddMinutes(10))));
        await using var peers = await ConnectAliceAsync(clock, source);
        var fresh = Mint(clock.GetUtcNow().AddMinutes(30));
        source.Current = Discharges.Create(fresh); // no cache event: only the refresh point can pick it up

        clock.Advance(TimeSpan.FromMinutes(5));
        await WaitUntilAsync(() => peers.Acceptor.RemoteDischarges[_caveat.DischargeId].Equals(fresh),
            () => "no refresh after half the discharge's life");
        Assert.True(source.Calls >= 2);
    }

    [Fact]
    public async Task FreshDischargesMoveTheConnectionsTrustSoItOutlivesTheDischargeItWasAcceptedWith()
    {
        // A connection keeps its verdict only until the discharges it was judged with expire; a refresh judged again
        // carries the verdict to the fresh discharges' expiry, so the live connection and its flows go on.
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var start = clock.GetUtcNow();
        var source = new DischargeSource(_alice, Discharges.Create(Mint(start.AddMinutes(10))));
        await using var peers = await ConnectAliceAsync(clock, source);
        Assert.Equal(start.AddMinutes(10), peers.Acceptor.PeerTrustedUntil);
        var (flow, accepted) = await OpenAcceptedAsync(peers);

        source.Current = Discharges.Create(Mint(start.AddMinutes(30)));
        clock.Advance(TimeSpan.FromMinutes(5));
        await WaitUntilAsync(() => peers.Acceptor.PeerTrustedUntil == start.AddMinutes(30),
            () => $"the acceptor trusts the dialer until {peers.Acceptor.PeerTrustedUntil}");

        clock.Advance(TimeSpan.FromMinutes(10)); // past the first discharge's expiry
        Assert.True(peers.Acceptor.IsUsable);
        await flow.WriteAsync(new byte[] { 5 });
        await ReadExactlyAsync(accepted, new byte[1]);
        var (_, second) = await OpenAcceptedAsync(peers); // the acceptor still admits the dialer's new flows
        Assert.Equal(["root:alice"], peers.Acceptor.RemoteBlessingNames);
        Assert.NotNull(second);
    }

    [Fact]
    public void TheRefreshPointIsHalfwayThroughTheRemainingLifeOfTheFirstDischargeToExpire()
    {
        var sentAt = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var other = ThirdPartyCaveat.Create(_discharger.PublicKey, "/d", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var sent = Discharges.Create(
            _discharger.MintDischarge(_caveat, Caveat.Expiry(sentAt.AddMinutes(10))),
            _discharger.MintDischarge(other, Caveat.Expiry(sentAt.AddMinutes(4))));
        Assert.Equal(sentAt.AddMinutes(2), DischargeRefresh.NextRefresh(sent, [_caveat.DischargeId, other.DischargeId], sentAt));
        Assert.Equal(sentAt.AddMinutes(5), DischargeRefresh.NextRefresh(sent, [_caveat.DischargeId], sentAt));

        // A caveat without a discharge is tried again after a minute, as Vanadium retries a failed fetch.
        Assert.Equal(sentAt + DischargeRefresh.RetryDelay, DischargeRefresh.NextRefresh(Discharges.Empty, [_caveat.DischargeId], sentAt));

        // A discharge that never expires needs no refresh.
        var forever = Discharges.Create(_discharger.MintDischarge(_caveat, Caveat.Unconstrained));
        Assert.Null(DischargeRefresh.NextRefresh(forever, [_caveat.DischargeId], sentAt));
    }

    [Fact]
    public async Task ARefreshTheAuthorizerRefusesClosesTheConnectionAsARefusedHandshakeWould()
    {
        _alice.CacheDischarge(Mint(DateTimeOffset.UtcNow.AddHours(1)));
        await using var peers = await ConnectAliceAsync();
        _alice.CacheDischarge(Mint(DateTimeOffset.UtcNow.AddMinutes(-1))); // already expired: its caveat is unmet

        await peers.Acceptor.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, peers.Acceptor.CloseReason?.Code);
        await peers.Dialer.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, peers.Dialer.CloseReason?.Code);

        // As for a refused handshake, the peer learns the code, not the acceptor's policy (its patterns, its reasons).
        Assert.Contains("does not trust", peers.Dialer.CloseReason!.Message);
        Assert.DoesNotContain("root:alice", peers.Dialer.CloseReason.Message);
        Assert.Contains("root:alice", peers.Acceptor.CloseReason!.InnerException!.Message);
    }

    [Fact]
    public async Task AnAuthMessageThatWouldChangeBlessingsOnALiveConnectionIsAProtocolViolation()
    {
        _alice.CacheDischarge(Mint(DateTimeOffset.UtcNow.AddHours(1)));
        await using var peers = await ConnectAliceAsync();
        var swap = new Auth(new ReadOnlySequence<byte>(_server.DefaultBlessings.ToBytes()), ReadOnlySequence<byte>.Empty, ReadOnlySequence<byte>.Empty);
        Assert.True(peers.Dialer.TrySendControl(swap));

        await peers.Acceptor.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, peers.Acceptor.CloseReason?.Code);
        Assert.Equal(_alice.DefaultBlessings, peers.Acceptor.RemoteBlessings);
    }

    [Fact]
    public async Task ARefreshLargerThanARecordsControlBudgetStillReachesThePeer()
    {
        // Sixteen discharges (about 2 KB) exceed the share of a record other control messages get.
        var caveats = Enumerable.Range(0, 16)
            .Select(_ => ThirdPartyCaveat.Create(_discharger.PublicKey, "/discharger", ThirdPartyRequirements.None, Caveat.Unconstrained))
            .ToArray();
        _alice.DefaultBlessings = _root.Bless(_alice.PublicKey, _root.DefaultBlessings, "alice", caveats[0], [.. caveats[1..].Select(c => (Caveat)c)]);
        foreach (var caveat in caveats)
        {
            _alice.CacheDischarge(_discharger.MintDischarge(caveat, Caveat.Expiry(DateTimeOffset.UtcNow.AddHours(1))));
        }

        await using var peers = await ConnectAliceAsync();
        var fresh = caveats.Select(c => _discharger.MintDischarge(c, Caveat.Expiry(DateTimeOffset.UtcNow.AddHours(2)))).ToArray();
        var expected = Discharges.Create(fresh).ToBytes();
        Assert.True(expected.Length > 1024);
        foreach (var discharge in fresh)
        {
            _alice.CacheDischarge(discharge);
        }

        await WaitUntilAsync(() => peers.Acceptor.RemoteDischarges.ToBytes().AsSpan().SequenceEqual(expected),
            () => $"the acceptor has {peers.Acceptor.RemoteDischarges.Count(d => fresh.Contains(d.Value))} of the fresh discharges");
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        await flow.WriteMessageAndCloseAsync([new byte[] { 4 }]);
        Assert.Equal(new byte[] { 4 }, await ReadToEndAsync(accepted));
    }

    [Fact]
    public async Task TheRefreshRunsOnlyForBlessingsThatNeedDischargesAndEndsWithTheConnection()
    {
        _alice.CacheDischarge(Mint(DateTimeOffset.UtcNow.AddHours(1)));
        await using var peers = await ConnectAliceAsync();
        var loopsBesideTheRefresh = peers.Acceptor.Counters.RunningLoops; // the server's blessings have no third-party caveat
        Assert.Equal(loopsBesideTheRefresh + 1, peers.Dialer.Counters.RunningLoops);

        await peers.Dialer.CloseAsync();
        await AssertClosedCleanAsync(peers.Dialer);
    }

    private Discharge Mint(DateTimeOffset expiry) => _discharger.MintDischarge(_caveat, Caveat.Expiry(expiry));

    private Task<Peers> ConnectAliceAsync() => ConnectAliceAsync(clock: null, authorizer: null);

    private Task<Peers> ConnectAliceAsync(TimeProvider? clock, IPeerAuthorizer? authorizer) => ConnectAsync(
        dialerPrincipal: _alice,
        acceptorPrincipal: _server,
        dialerAuthorizer: authorizer,
        acceptorAuthorizer: PeerAuthorizers.RequireBlessings(_server, "root:alice"),
        dialerOptions: o => Configure(o, clock),
        acceptorOptions: o => Configure(o, clock));

    private static void Configure(ConnectionOptions options, TimeProvider? clock)
    {
        if (clock is not null)
        {
            // The test moves the clock by minutes: the peers must not take that for silence.
            options.TimeProvider = clock;
            options.ChannelTimeout = TimeSpan.FromDays(1);
        }
    }

    /// <summary>Presents the principal's default blessings with discharges a test sets, without any cache event.</summary>
    private sealed class DischargeSource(Principal principal, Discharges initial) : IPeerAuthorizer
    {
        private int _calls;
        private volatile Discharges _current = initial;

        public Discharges Current
        {
            get => _current;
            set => _current = value;
        }

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken) =>
            PeerAuthorizers.AllowEveryone(principal).AuthorizePeerAsync(context, cancellationToken);

        public (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames)
        {
            Interlocked.Increment(ref _calls);
            return (principal.DefaultBlessings, Current);
        }
    }
}
