using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>The registry of flows a silo holds for callers: claims, leases and unclaimed expiry, on a fake clock.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class HostedFlowsTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();
    private readonly FlowManager _silo = new(new FlowManagerOptions { Principal = NewPrincipal("silo") });
    private readonly FlowManager _peer = new(new FlowManagerOptions { Principal = NewPrincipal("peer") });
    private readonly HostedFlows _flows;
    private IFlowListener? _listener;

    public HostedFlowsTests()
    {
        var options = new FlowOrleansOptions { FlowLeaseTimeout = Lease, ClaimTimeout = ClaimTimeout };
        _flows = new HostedFlows(Options.Create(options), new TestSiloDetails(), _time, NullLogger<HostedFlows>.Instance);
    }

    public async ValueTask InitializeAsync() => _listener = await _silo.ListenAsync("tcp", "127.0.0.1:0");

    public async ValueTask DisposeAsync()
    {
        await _flows.StopAsync(CancellationToken.None);
        _flows.Dispose();
        await _peer.DisposeAsync();
        await _silo.DisposeAsync();
    }

    /// <summary>A flow the peer opened, as the silo accepted it, plus the peer's end.</summary>
    private async Task<(HostedFlow Held, IFlow Peer)> HoldAcceptedAsync()
    {
        var ct = new CancellationTokenSource(TestTimeout).Token;
        var peer = await _peer.DialAsync(_listener!.Endpoint, PeerAuthorizers.AllowEveryone(_peer.Principal), cancellationToken: ct);
        await peer.WriteAsync(new byte[] { 1 }, ct);
        var accepted = await _silo.AcceptAsync(ct);
        return (_flows.Add(accepted), peer);
    }

    private bool Holds(HostedFlow flow) => _flows.All.Contains(flow);

    [Fact]
    public async Task AHeldFlowIsNamedForItsSiloAndLease()
    {
        var (held, peer) = await HoldAcceptedAsync();
        Assert.Equal(new TestSiloDetails().SiloAddress.ToParsableString(), held.Handle.SiloKey);
        Assert.Equal(_peer.RoutingId, held.Handle.RemoteEndpoint.RoutingId);
        Assert.Equal(Lease, held.Handle.LeaseTimeout);
        await peer.DisposeAsync();
    }

    [Fact]
    public async Task OnlyTheFirstClaimWinsAndOnlyClaimedFlowsCanBeUsed()
    {
        var (held, peer) = await HoldAcceptedAsync();
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => _flows.Get(new FlowGrant(held.Handle.FlowId, held.Capability))).Code);
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out var capability));
        Assert.False(_flows.TryClaim(held.Handle.FlowId, out var second));
        Assert.True(second.IsEmpty);
        Assert.Same(held, _flows.Get(new FlowGrant(held.Handle.FlowId, capability)));
        Assert.False(_flows.TryClaim(Guid.NewGuid(), out _));
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => _flows.Get(new FlowGrant(Guid.NewGuid(), capability))).Code);
        await peer.DisposeAsync();
    }

    [Fact]
    public async Task AClaimedFlowIsUsableOnlyWithItsOwnCapabilityAndAWrongOneLooksLikeNoFlow()
    {
        var (held, peer) = await HoldAcceptedAsync();
        var (other, otherPeer) = await HoldAcceptedAsync();
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out var capability));
        Assert.True(_flows.TryClaim(other.Handle.FlowId, out var otherCapability));
        Assert.NotEqual(capability, otherCapability);

        var stolen = new FlowGrant(held.Handle.FlowId, otherCapability);
        var wrong = Assert.Throws<FlowException>(() => _flows.Get(stolen));
        var unknownId = Guid.NewGuid();
        var unknown = Assert.Throws<FlowException>(() => _flows.Get(new FlowGrant(unknownId, otherCapability)));
        Assert.Equal(FlowErrorCode.BadArg, wrong.Code);
        Assert.Equal(
            unknown.Message.Replace(unknownId.ToString(), "ID", StringComparison.Ordinal),
            wrong.Message.Replace(held.Handle.FlowId.ToString(), "ID", StringComparison.Ordinal));
        Assert.Equal([held.Handle.FlowId], _flows.Renew([stolen]));

        // Closing with the wrong capability closes nothing; the owner's flow still works.
        await _flows.CloseAsync(stolen);
        Assert.True(Holds(held));
        await _flows.Get(new FlowGrant(held.Handle.FlowId, capability)).WriteAsync(new byte[] { 9 }, CancellationToken.None);
        Assert.Equal(1, await ReadOneAsync(peer));
        Assert.Empty(_flows.Renew([new FlowGrant(held.Handle.FlowId, capability)]));
        await peer.DisposeAsync();
        await otherPeer.DisposeAsync();
    }

    private static async Task<int> ReadOneAsync(IFlow flow)
    {
        var one = new byte[1];
        return await flow.ReadAsync(one, new CancellationTokenSource(TestTimeout).Token);
    }

    [Fact]
    public async Task AnAnnouncedFlowNobodyClaimsIsClosedAfterTheClaimTimeout()
    {
        var (held, peer) = await HoldAcceptedAsync();
        var expiry = _flows.CloseUnlessClaimedAsync(held);
        _time.Advance(ClaimTimeout - TimeSpan.FromSeconds(1));
        Assert.False(expiry.IsCompleted);
        Assert.True(Holds(held));

        _time.Advance(TimeSpan.FromSeconds(2));
        await expiry.WaitAsync(TestTimeout);
        Assert.False(Holds(held));

        // Closed, so the peer sees the flow end instead of waiting for an answer forever.
        await AssertEndedAsync(peer);
    }

    [Fact]
    public async Task AClaimedFlowOutlivesTheClaimTimeout()
    {
        var (held, peer) = await HoldAcceptedAsync();
        var expiry = _flows.CloseUnlessClaimedAsync(held);
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out _));
        _time.Advance(ClaimTimeout + TimeSpan.FromSeconds(1));
        await expiry.WaitAsync(TestTimeout);
        Assert.True(Holds(held));
        await peer.DisposeAsync();
    }

    [Fact]
    public async Task ALeaseRunsOutOnlyAfterALeaseWithoutUseOrRenewal()
    {
        var (held, peer) = await HoldAcceptedAsync();
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out var heldCapability));

        _time.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.Empty(_flows.Renew([new FlowGrant(held.Handle.FlowId, heldCapability)]));
        _time.Advance(Lease - TimeSpan.FromSeconds(1));
        await _flows.CloseExpiredLeasesAsync();
        Assert.True(Holds(held));

        _time.Advance(TimeSpan.FromSeconds(2));
        await _flows.CloseExpiredLeasesAsync();
        Assert.False(Holds(held));
        Assert.Equal([held.Handle.FlowId], _flows.Renew([new FlowGrant(held.Handle.FlowId, heldCapability)]));
        await AssertEndedAsync(peer);
    }

    [Fact]
    public async Task AFlowWithAReaderWaitingKeepsItsLease()
    {
        var (held, peer) = await HoldAcceptedAsync();
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out _));
        await using var reader = held.ReadAsync().GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync()); // the peer's first byte
        var waiting = reader.MoveNextAsync(); // and now it waits for more

        _time.Advance(Lease * 3);
        await _flows.CloseExpiredLeasesAsync();
        Assert.True(Holds(held));
        Assert.False(waiting.IsCompleted);

        await peer.DisposeAsync();
        try
        {
            await waiting;
        }
        catch (FlowException)
        {
        }
    }

    [Fact]
    public async Task TheSweepClosesExpiredFlowsOnItsOwnTimer()
    {
        var (held, peer) = await HoldAcceptedAsync();
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out _));
        await _flows.StartAsync(CancellationToken.None);

        // The sweep's timer starts on the thread pool; step the clock until it has ticked past the lease.
        await WaitUntilAsync(() =>
        {
            _time.Advance(Lease / 4);
            return !Holds(held);
        });
        await AssertEndedAsync(peer);
    }

    [Fact]
    public async Task StoppingClosesEveryFlow()
    {
        var (first, firstPeer) = await HoldAcceptedAsync();
        var (second, secondPeer) = await HoldAcceptedAsync();
        Assert.True(_flows.TryClaim(first.Handle.FlowId, out _));

        await _flows.StopAsync(CancellationToken.None);
        Assert.Empty(_flows.All);
        await AssertEndedAsync(firstPeer);
        await AssertEndedAsync(secondPeer);
    }

    [Fact]
    public async Task ACallForAFlowAStoppingSiloClosedSaysTheSiloIsStoppingNotThatTheFlowIsUnknown()
    {
        // Seen in the chaos test: after a SIGTERM, a client still reading its flow was told "holds no flow" (BadArg).
        var (held, _) = await HoldAcceptedAsync();
        Assert.True(_flows.TryClaim(held.Handle.FlowId, out var capability));
        var grant = new FlowGrant(held.Handle.FlowId, capability);
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => _flows.Get(new FlowGrant(Guid.NewGuid(), capability))).Code);

        await _flows.StopAsync(CancellationToken.None);
        var stopping = Assert.Throws<FlowException>(() => _flows.Get(grant));
        Assert.Equal(FlowErrorCode.Aborted, stopping.Code);
        Assert.Contains("is stopping", stopping.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWriteUnderWayWhenItsFlowClosesFailsWithAbortedNotACancellation()
    {
        // Seen in the chaos test: a client writing through a stopping silo got an OperationCanceledException, which it
        // cannot tell from its own cancellation (and the chaos workload counted as a hang).
        var (held, peer) = await HoldAcceptedAsync();
        using var caller = new CancellationTokenSource();

        // Far beyond the peer's window (1 MiB at most): the write waits for credit the peer, not reading, never gives.
        var write = held.WriteAsync(new byte[16 * 1024 * 1024], caller.Token);
        await _flows.StopAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<FlowException>(() => write.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, error.Code);
        Assert.False(caller.IsCancellationRequested);
        await peer.DisposeAsync();
    }

    private static async Task AssertEndedAsync(IFlow peer)
    {
        var buffer = new byte[1];
        try
        {
            Assert.Equal(0, await peer.ReadAsync(buffer, new CancellationTokenSource(TestTimeout).Token));
        }
        catch (FlowException e)
        {
            Assert.Equal(FlowErrorCode.Aborted, e.Code);
        }
        finally
        {
            await peer.DisposeAsync();
        }
    }
}
