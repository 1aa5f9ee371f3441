using System.Buffers;
using System.Threading.Channels;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// How the read loop routes what an authenticated peer sends (the violations are in <see cref="ProtocolViolationTests"/>):
/// pings are answered, lame duck is acknowledged, data riding with an open reaches the flow, stray credit is harmless.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class InboundDispatcherTests
{
    private static async Task<(RoguePeer Rogue, ManagedConnection Victim, Channel<IFlow> Accepted, IAsyncDisposable Listener)> SetUpAsync()
    {
        var accepted = Channel.CreateUnbounded<IFlow>();
        var (rogue, victim, listener) = await RoguePeer.ConnectAsync(accepted.Writer);
        return (rogue, await victim.WaitAsync(TestTimeout), accepted, listener);
    }

    [Fact]
    public async Task APingIsAnsweredWithItsNonce()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var _l = listener;
        await using var _r = rogue;
        await using var _v = victim;

        await rogue.SendAsync(new HealthCheckRequest(0xfeed));
        var pong = await rogue.ReadUntilAsync<HealthCheckResponse>(p => p.Nonce == 0xfeed);
        Assert.NotNull(pong);
    }

    [Fact]
    public async Task ThePeersLameDuckIsAcknowledgedAndStopsNewFlowsFromThisSide()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var _l = listener;
        await using var _r = rogue;
        await using var _v = victim;

        await rogue.SendAsync(new EnterLameDuck());
        Assert.NotNull(await rogue.ReadUntilAsync<AckLameDuck>());
        Assert.True(victim.IsRemoteLameDuck);
        Assert.False(victim.IsUsable);
        var open = Assert.Throws<FlowException>(() => victim.OpenFlow());
        Assert.Equal(FlowErrorCode.BadState, open.Code);
    }

    [Fact]
    public async Task DataRidingWithAnOpenReachesTheAcceptedFlowAndTheAcknowledgementGrantsItsWindow()
    {
        var (rogue, victim, accepted, listener) = await SetUpAsync();
        await using var _l = listener;
        await using var _r = rogue;
        await using var _v = victim;

        await rogue.SendAsync(new OpenFlow(1, 1000, DataFlags.Close, new ReadOnlySequence<byte>("first"u8.ToArray())));
        var flow = await accepted.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        var buffer = new byte[16];
        Assert.Equal(5, await flow.ReadAsync(buffer));
        Assert.Equal("first"u8.ToArray(), buffer[..5]);
        Assert.Equal(0, await flow.ReadAsync(buffer));

        var ack = await rogue.ReadUntilAsync<Release>(r => r.Credits.Any(c => c.FlowId == 1));
        Assert.True(ack!.Credits.Single(c => c.FlowId == 1).Bytes >= (ulong)new ConnectionOptions().MinFlowWindow);
    }

    [Fact]
    public async Task CreditForAFlowThatIsGoneIsIgnored()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var _l = listener;
        await using var _r = rogue;
        await using var _v = victim;

        await rogue.SendAsync(new Release([new FlowCredit(99, 1000)]), new HealthCheckRequest(1));
        Assert.NotNull(await rogue.ReadUntilAsync<HealthCheckResponse>());
        Assert.False(victim.Closed.IsCompleted);
    }

    [Fact]
    public async Task DataAfterThePeerClosedItsSideIsRejected()
    {
        var (rogue, victim, accepted, listener) = await SetUpAsync();
        await using var _l = listener;
        await using var _r = rogue;

        await rogue.SendAsync(new OpenFlow(1, 1000, DataFlags.Close, new ReadOnlySequence<byte>(new byte[10])));
        _ = await accepted.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await rogue.SendAsync(new Data(1, DataFlags.None, new ReadOnlySequence<byte>(new byte[10])));

        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Equal(FlowErrorCode.BadArg, (await rogue.ReadTearDownAsync())!.Code);
    }
}
