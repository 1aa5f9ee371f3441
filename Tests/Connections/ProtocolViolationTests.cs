using System.Buffers;
using System.Threading.Channels;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// An authenticated peer that breaks the protocol: each violation closes the connection with a typed error, tells the
/// peer why, and leaves nothing behind.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ProtocolViolationTests
{
    private static async Task<(RoguePeer Rogue, Transport.Connections.ManagedConnection Victim, Channel<IFlow> Accepted, IAsyncDisposable Listener)> SetUpAsync()
    {
        var accepted = Channel.CreateUnbounded<IFlow>();
        var (rogue, victim, listener) = await RoguePeer.ConnectAsync(accepted.Writer);
        return (rogue, await victim.WaitAsync(TestTimeout), accepted, listener);
    }

    private static ReadOnlySequence<byte> Bytes(int n) => new(new byte[n]);

    [Fact]
    public async Task DataBeyondCreditClosesTheConnectionWithBadArg()
    {
        var (rogue, victim, accepted, listener) = await SetUpAsync();
        await using var _ = listener;
        await using var __ = rogue;
        await rogue.SendAsync(new OpenFlow(1, 1000, DataFlags.None, Bytes(0)));
        var flow = await accepted.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        // Nobody reads the flow; the rogue ignores the window (256 KiB) and the shared credit and keeps sending.
        try
        {
            for (var i = 0; i < 12 && !victim.Closed.IsCompleted; i++)
            {
                await rogue.SendAsync(new Data(1, DataFlags.None, Bytes(60_000)));
            }
        }
        catch (FlowException)
        {
            // The victim already closed on it: exactly what is being tested.
        }

        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Contains("beyond its credit", victim.CloseReason.Message);
        var down = await rogue.ReadTearDownAsync();
        Assert.Equal(FlowErrorCode.BadArg, down!.Code);
        var read = await Assert.ThrowsAsync<FlowException>(async () => await flow.ReadAsync(new byte[1]));
        Assert.Equal(FlowErrorCode.Aborted, read.Code);
        await AssertClosedCleanAsync(victim);
    }

    [Fact]
    public async Task DataForAFlowNeverOpenedIsRejected()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var __ = listener;
        await using var ___ = rogue;
        await rogue.SendAsync(new Data(41, DataFlags.None, Bytes(10)));
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Contains("never opened", victim.CloseReason.Message);
        await AssertClosedCleanAsync(victim);
    }

    [Theory]
    [InlineData(2UL)] // the acceptor's parity: the dialer may not use it
    [InlineData(0UL)]
    public async Task OpeningAFlowWithAnIdentifierThePeerMayNotUseIsRejected(ulong id)
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var __ = listener;
        await using var ___ = rogue;
        await rogue.SendAsync(new OpenFlow(id, 1000, DataFlags.None, Bytes(1)));
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
    }

    [Fact]
    public async Task ReusingAFlowIdentifierIsRejected()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var __ = listener;
        await using var ___ = rogue;
        await rogue.SendAsync(new OpenFlow(3, 1000, DataFlags.None, Bytes(1)));
        await rogue.SendAsync(new OpenFlow(3, 1000, DataFlags.None, Bytes(1)));
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
    }

    [Fact]
    public async Task AReplayedRecordClosesTheConnectionWithNetwork()
    {
        var (rogue, victim, accepted, listener) = await SetUpAsync();
        await using var _ = listener;
        await using var __ = rogue;
        var frame = await rogue.SendAsync(new OpenFlow(1, 1000, DataFlags.None, new ReadOnlySequence<byte>("once"u8.ToArray())));
        var flow = await accepted.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await rogue.SendRawAsync(frame);
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.Network, victim.CloseReason!.Code);
        // Only the genuine record's bytes were ever delivered.
        Assert.Equal(0, victim.Counters.BufferedBytes);
        await AssertClosedCleanAsync(victim);
        Assert.Equal(4, victim.Counters.BytesReceived);
        await flow.DisposeAsync();
    }

    [Fact]
    public async Task PlaintextAfterTheHandshakeClosesTheConnectionWithNetwork()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var __ = listener;
        await using var ___ = rogue;
        var plaintext = new ArrayBufferWriter<byte>();
        MessageCodec.Write(plaintext, new HealthCheckRequest(1));
        await rogue.SendRawAsync([.. plaintext.WrittenSpan, .. new byte[16]]);
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.Network, victim.CloseReason!.Code);
    }

    [Fact]
    public async Task HandshakeMessagesAfterTheHandshakeAreRejected()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var __ = listener;
        await using var ___ = rogue;
        await rogue.SendAsync(new AuthAccepted());
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.BadArg, victim.CloseReason!.Code);
        Assert.Contains("Unexpected AuthAccepted", victim.CloseReason.Message);
    }

    [Fact]
    public async Task APeersTearDownClosesWithItsCodeAndIsNotEchoed()
    {
        var (rogue, victim, _, listener) = await SetUpAsync();
        await using var __ = listener;
        await using var ___ = rogue;
        await rogue.SendAsync(new TearDown(FlowErrorCode.NotTrusted, "you are not welcome"));
        await victim.Closed.WaitAsync(TestTimeout);
        Assert.Equal(FlowErrorCode.NotTrusted, victim.CloseReason!.Code);
        Assert.Contains("you are not welcome", victim.CloseReason.Message);
        Assert.Null(await rogue.ReadTearDownAsync());
    }
}
