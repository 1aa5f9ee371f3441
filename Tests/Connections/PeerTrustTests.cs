using System.Threading.Channels;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// What a connection grants its peer after the handshake (<see cref="PeerTrust"/>): who may open flows, and for how
/// long the blessings it was accepted under hold, checked at every flow open without waiting for the expiry timer.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PeerTrustTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>A clock the test sets; its timers run in real time, so an expiry minutes away never fires during a test.</summary>
    private sealed class SettableClock : TimeProvider
    {
        private long _ticks = DateTimeOffset.UtcNow.UtcTicks;

        public DateTimeOffset Now
        {
            get => new(Volatile.Read(ref _ticks), TimeSpan.Zero);
            set => Volatile.Write(ref _ticks, value.UtcTicks);
        }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed record Pair(ManagedConnection Dialer, ManagedConnection Acceptor, ChannelReader<IFlow> DialerAccepts, ChannelReader<IFlow> AcceptorAccepts);

    /// <summary>
    /// Two peers that recognise each other's (self-blessed) names, the dialer's blessing expiring after
    /// <paramref name="dialerLifetime"/> on <paramref name="clock"/>.
    /// </summary>
    private static async Task<Pair> ConnectAsync(TimeProvider clock, TimeSpan? dialerLifetime, Func<Principal, IPeerAuthorizer>? dialerAcceptorAuthorizer = null)
    {
        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        await listener.DisposeAsync();
        var acceptor = Principal.CreateInMemory();
        acceptor.DefaultBlessings = acceptor.BlessSelf("acceptor");
        var dialer = Principal.CreateInMemory();
        dialer.DefaultBlessings = dialerLifetime is { } lifetime
            ? dialer.BlessSelf("dialer", Caveat.Expiry(clock.GetUtcNow() + lifetime))
            : dialer.BlessSelf("dialer");
        acceptor.Roots.AddRootsOf(dialer.DefaultBlessings);
        dialer.Roots.AddRootsOf(acceptor.DefaultBlessings);
        var options = new ConnectionOptions { TimeProvider = clock };
        var dialerAccepts = Channel.CreateBounded<IFlow>(16);
        var acceptorAccepts = Channel.CreateBounded<IFlow>(16);
        var accept = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = acceptor,
            Authorizer = PeerAuthorizers.AllowEveryone(acceptor),
            LocalEndpoint = LocalEndpoint(),
            Options = options,
            AcceptedFlows = acceptorAccepts.Writer,
        });
        var dial = ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = PeerAuthorizers.AllowEveryone(dialer),
            AcceptorAuthorizer = dialerAcceptorAuthorizer?.Invoke(dialer),
            LocalEndpoint = LocalEndpoint(),
            Options = options,
            AcceptedFlows = dialerAccepts.Writer,
        });
        return new Pair(await dial.WaitAsync(TestTimeout), await accept.WaitAsync(TestTimeout), dialerAccepts.Reader, acceptorAccepts.Reader);
    }

    [Fact]
    public async Task AFlowOpenedAfterThePeersBlessingsExpiredIsRefusedBeforeTheTimerFires()
    {
        var clock = new SettableClock();
        var pair = await ConnectAsync(clock, Lifetime);
        Assert.Equal(clock.Now + Lifetime, pair.Acceptor.PeerTrustedUntil);
        Assert.Null(pair.Dialer.PeerTrustedUntil); // the acceptor's blessing never expires

        clock.Now += Lifetime + TimeSpan.FromSeconds(1);
        Assert.False(pair.Acceptor.IsUsable); // no dial reuses it, even before it closes
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteAsync(new byte[] { 1 });

        await pair.Acceptor.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, pair.Acceptor.CloseReason?.Code);
        Assert.False(pair.AcceptorAccepts.TryRead(out _));
        await pair.Dialer.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, pair.Dialer.CloseReason?.Code);
    }

    [Fact]
    public async Task OpeningAFlowToAPeerWhoseBlessingsExpiredThrowsNotTrustedAndClosesTheConnection()
    {
        var clock = new SettableClock();
        var pair = await ConnectAsync(clock, Lifetime);

        clock.Now += Lifetime + TimeSpan.FromSeconds(1);
        var e = Assert.Throws<FlowException>(() => pair.Acceptor.OpenFlow());

        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
        await pair.Acceptor.Closed.WaitAsync(TestTimeout);
        await pair.Dialer.DisposeAsync();
    }

    [Fact]
    public async Task TheAcceptorAuthorizerOfTheDialingSideDecidesWhetherItsPeerMayOpenFlows()
    {
        var pair = await ConnectAsync(TimeProvider.System, dialerLifetime: null, p => PeerAuthorizers.RequireBlessings(p, "someone-else"));

        // The dialer's own flows go through; the acceptor's come back refused, with the code and no policy.
        var outbound = pair.Dialer.OpenFlow();
        await outbound.WriteAsync(new byte[] { 1 });
        await using var atAcceptor = await pair.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        var back = pair.Acceptor.OpenFlow();
        await back.WriteAsync(new byte[] { 2 });
        var refused = await Assert.ThrowsAsync<FlowException>(async () => await back.ReadAsync(new byte[1]).AsTask().WaitAsync(TestTimeout));

        Assert.Equal(FlowErrorCode.NotTrusted, refused.Code);
        Assert.DoesNotContain("someone-else", refused.Message, StringComparison.Ordinal);
        Assert.False(pair.DialerAccepts.TryRead(out _));
        Assert.False(pair.Dialer.Closed.IsCompleted);
        await pair.Dialer.DisposeAsync();
        await pair.Acceptor.DisposeAsync();
    }

    [Fact]
    public void TheExpiryTimerFiresOnceWhenTheClockPassesNotAfterEvenFarAhead()
    {
        var clock = new FakeTimeProvider();
        var notAfter = clock.GetUtcNow() + TimeSpan.FromDays(75); // beyond what one timer can wait
        using var trust = new PeerTrust(peerMayOpenFlows: true, notAfter, clock);
        var fired = 0;
        trust.Watch(() => fired++);

        clock.Advance(TimeSpan.FromDays(75));
        Assert.Equal(0, fired); // caveats hold up to and including NotAfter
        Assert.False(trust.HasExpired);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fired);
        Assert.True(trust.HasExpired);
        clock.Advance(TimeSpan.FromDays(100));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void ADisposedOrExpiryFreeTrustNeverFires()
    {
        var clock = new FakeTimeProvider();
        var fired = 0;
        using (var forever = new PeerTrust(peerMayOpenFlows: true, notAfter: null, clock))
        {
            forever.Watch(() => fired++);
            clock.Advance(TimeSpan.FromDays(10_000));
            Assert.False(forever.HasExpired);
        }

        var stopped = new PeerTrust(peerMayOpenFlows: true, clock.GetUtcNow() + TimeSpan.FromMinutes(1), clock);
        stopped.Watch(() => fired++);
        stopped.Dispose();
        clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(0, fired);
    }

    [Fact]
    public void ARenewedTrustExpiresAtItsNewTimeWhetherLaterEarlierOrNever()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var start = clock.GetUtcNow();
        using var trust = new PeerTrust(peerMayOpenFlows: true, start.AddMinutes(10), clock);
        var expired = 0;
        trust.Watch(() => Interlocked.Increment(ref expired));

        trust.Renew(peerMayOpenFlows: false, start.AddMinutes(30)); // a fresh discharge: later
        Assert.False(trust.PeerMayOpenFlows);
        clock.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(0, Volatile.Read(ref expired));
        Assert.False(trust.HasExpired);

        trust.Renew(peerMayOpenFlows: true, start.AddMinutes(20)); // a shorter-lived one: earlier
        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(1, Volatile.Read(ref expired));
        Assert.True(trust.HasExpired);

        using var forever = new PeerTrust(peerMayOpenFlows: true, clock.GetUtcNow().AddMinutes(1), clock);
        var never = 0;
        forever.Watch(() => Interlocked.Increment(ref never));
        forever.Renew(peerMayOpenFlows: true, notAfter: null);
        clock.Advance(TimeSpan.FromDays(60));
        Assert.Equal(0, Volatile.Read(ref never));
        Assert.Null(forever.NotAfter);
    }
}
