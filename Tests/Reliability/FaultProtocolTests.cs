using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Tests.Protocols;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Faults;
using FlowOrleans.Transport.Protocols.Framing;
using Microsoft.Extensions.Time.Testing;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// The fault protocol on its own, frame by frame: each fault does exactly what its plan says, at the byte it says,
/// the framing underneath reports it as it would on a socket, and nothing keeps running after disposal.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FaultProtocolTests
{
    private static readonly TimeSpan Timeout = ConnectionTestKit.TestTimeout;

    private static async Task<(IFramedConnection Dialed, IFramedConnection Accepted, IProtocolListener Listener, FaultProtocol Protocol)> PairAsync(
        FaultPlan dialerPlan, FaultPlan? acceptorPlan = null, TimeProvider? time = null)
    {
        var protocol = new FaultProtocol(new MemoryProtocol(), "memory", info => info.Dialed ? dialerPlan : acceptorPlan ?? FaultPlan.None, timeProvider: time);
        var listener = await protocol.ListenAsync("fault", "");
        var accept = listener.AcceptAsync().AsTask();
        var dialed = await protocol.DialAsync("fault", listener.Address, Timeout);
        return (dialed, await accept.WaitAsync(Timeout), listener, protocol);
    }

    private static byte[] Frame(int length, byte fill) => Enumerable.Repeat(fill, length).ToArray();

    private static async Task SendAsync(IFramedConnection connection, byte[] payload)
    {
        payload.CopyTo(connection.GetFrameBuffer(payload.Length));
        connection.CommitFrame();
        await connection.FlushAsync();
    }

    private static async Task<byte[]> ReceiveAsync(IFramedConnection connection)
    {
        var frame = await connection.ReadFrameAsync().AsTask().WaitAsync(Timeout);
        Assert.False(frame.IsCompleted);
        return frame.Payload.ToArray();
    }

    private static async Task DisposeAllAsync(FaultProtocol protocol, params IAsyncDisposable[] things)
    {
        foreach (var thing in things)
        {
            await thing.DisposeAsync();
        }

        await ConnectionTestKit.WaitUntilAsync(() => protocol.RunningPumps == 0, () => $"{protocol.RunningPumps} pumps still run");
    }

    [Fact]
    public void ItIsNotAmongTheDefaultProtocolsAndRegistersLikeAnyOther()
    {
        Assert.False(ProtocolRegistry.Default.TryGet(FaultProtocol.ProtocolName, out _, out _));
        var registry = new ProtocolRegistry();
        var protocol = new FaultProtocol(new MemoryProtocol(), "memory");
        registry.Register(FaultProtocol.ProtocolName, protocol);
        Assert.True(registry.TryGet("fault", out var found, out _));
        Assert.Same(protocol, found);
    }

    [Fact]
    public async Task PiecesOfOneToSevenBytesWithDelaysStillCarryEveryFrameWhole()
    {
        var (dialed, accepted, listener, protocol) = await PairAsync(new FaultPlan { MaxPieceBytes = 7, Seed = 3, PieceDelay = TimeSpan.FromTicks(1) });
        byte[][] frames = [.. Enumerable.Range(0, 40).Select(i => Frame((i * 37) % 300, (byte)i))];
        foreach (var frame in frames)
        {
            await SendAsync(dialed, frame);
        }

        foreach (var frame in frames)
        {
            Assert.Equal(frame, await ReceiveAsync(accepted));
        }

        await DisposeAllAsync(protocol, dialed, accepted, listener);
    }

    [Fact]
    public async Task AFlippedByteArrivesFlippedExactlyWhereThePlanSaid()
    {
        // Stream: [prefix 4][frame 100][prefix 4][frame 100]: byte 150 is byte 42 of the second frame's payload.
        var (dialed, accepted, listener, protocol) = await PairAsync(new FaultPlan { FlipAtByte = 150, FlipMask = 0x81 });
        await SendAsync(dialed, Frame(100, 0x10));
        await SendAsync(dialed, Frame(100, 0x20));
        Assert.Equal(Frame(100, 0x10), await ReceiveAsync(accepted));
        var second = await ReceiveAsync(accepted);
        var expected = Frame(100, 0x20);
        expected[42] ^= 0x81;
        Assert.Equal(expected, second);
        await DisposeAllAsync(protocol, dialed, accepted, listener);
    }

    [Fact]
    public async Task AFlippedLengthPrefixIsRefusedByTheFramingBeforeAnythingIsBuffered()
    {
        var (dialed, accepted, listener, protocol) = await PairAsync(new FaultPlan { FlipAtByte = 0, FlipMask = 0x80 });
        await SendAsync(dialed, Frame(10, 1));
        var e = await Assert.ThrowsAsync<FlowException>(async () => await accepted.ReadFrameAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        await DisposeAllAsync(protocol, dialed, accepted, listener);
    }

    [Fact]
    public async Task ACutInsideAFrameIsANetworkErrorOnBothSidesAndWritesStop()
    {
        // The cut falls 20 bytes into the second frame's payload: the first frame arrives, the second never does.
        var (dialed, accepted, listener, protocol) = await PairAsync(new FaultPlan { CutAfterBytes = 4 + 50 + 4 + 20 });
        await SendAsync(dialed, Frame(50, 1));
        await SendAsync(dialed, Frame(50, 2));
        Assert.Equal(Frame(50, 1), await ReceiveAsync(accepted));
        var far = await Assert.ThrowsAsync<FlowException>(async () => await accepted.ReadFrameAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Network, far.Code);
        Assert.Contains("inside a frame", far.Message);

        var near = await Assert.ThrowsAsync<FlowException>(async () => await dialed.ReadFrameAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Network, near.Code);
        Assert.Contains("cut after 78 bytes", near.Message);
        // Writing goes on into the pipe until the send loop has stopped; from then on every write fails.
        FlowException? stopped = null;
        for (var i = 0; stopped is null && i < 2000; i++)
        {
            try
            {
                await SendAsync(dialed, Frame(1, 3)).WaitAsync(Timeout);
                await Task.Delay(5);
            }
            catch (FlowException e)
            {
                stopped = e;
            }
        }

        Assert.Equal(FlowErrorCode.Network, stopped?.Code);
        await DisposeAllAsync(protocol, dialed, accepted, listener);
    }

    [Fact]
    public async Task AResetFailsBothSidesWithNetwork()
    {
        var (dialed, accepted, listener, protocol) = await PairAsync(new FaultPlan { ResetAfterBytes = 30 });
        await SendAsync(dialed, Frame(100, 1));
        var far = await Assert.ThrowsAsync<FlowException>(async () => await accepted.ReadFrameAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Network, far.Code);
        var near = await Assert.ThrowsAsync<FlowException>(async () => await dialed.ReadFrameAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Network, near.Code);
        Assert.Contains("reset after 30 bytes", near.Message);
        await DisposeAllAsync(protocol, dialed, accepted, listener);
    }

    // A peer's last frames (a teardown, say) are read before its reset, as on a socket (SocketResetTests): the link
    // below is framed over a transport that reports the reset the way SocketTransport does.
    [Fact]
    public async Task FramesThatArrivedBeforeThePeersResetAreReadBeforeTheReset()
    {
        var incoming = new Pipe();
        var transport = new ResettingTransport(incoming.Reader, new Pipe().Writer);
        var protocol = new FaultProtocol(new MemoryProtocol(), "memory");
        var framed = await protocol.WrapAsync(
            new PipeFramedConnection(transport, "memory", FramingOptions.DefaultMaxFrameSize), "fault", dialed: true, "peer");

        // On the link, the peer's frame travels as one piece of the faulty stream, itself a frame of the link.
        var lastWords = "the peer's teardown"u8.ToArray();
        await incoming.Writer.WriteAsync(ProtocolTestSupport.Encode(ProtocolTestSupport.Encode(lastWords)));
        transport.ReceiveError = new FlowException(FlowErrorCode.Network, "The connection was reset by its peer.");
        await incoming.Writer.CompleteAsync();

        // Read nothing until the receive pump has met the reset: only the send pump still runs.
        await ConnectionTestKit.WaitUntilAsync(() => protocol.RunningPumps == 1, () => $"{protocol.RunningPumps} pumps still run");

        Assert.Equal(lastWords, await ReceiveAsync(framed));
        var reset = await Assert.ThrowsAsync<FlowException>(async () => await framed.ReadFrameAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Network, reset.Code);
        await DisposeAllAsync(protocol, framed);
    }

    [Fact]
    public async Task AStalledReaderGetsNothingPastItsLimitUntilTheStallEnds()
    {
        var time = new FakeTimeProvider();
        var (dialed, accepted, listener, protocol) = await PairAsync(
            FaultPlan.None, new FaultPlan { StallReadsAfterBytes = 4 + 10 + 2, StallFor = TimeSpan.FromSeconds(5) }, time);
        await SendAsync(dialed, Frame(10, 1));
        await SendAsync(dialed, Frame(10, 2));
        Assert.Equal(Frame(10, 1), await ReceiveAsync(accepted));
        var second = accepted.ReadFrameAsync().AsTask();
        await ConnectionTestKit.WaitUntilAsync(() => protocol.StalledReaders == 1);
        Assert.False(second.IsCompleted); // 2 of its 14 bytes got through before the stall
        time.Advance(TimeSpan.FromSeconds(5));
        var frame = await second.WaitAsync(Timeout);
        Assert.Equal(Frame(10, 2), frame.Payload.ToArray());
        Assert.Equal(0, protocol.StalledReaders);
        await DisposeAllAsync(protocol, dialed, accepted, listener);
    }

    [Fact]
    public async Task AReaderStalledForGoodIsReleasedByDisposal()
    {
        var (dialed, accepted, listener, protocol) = await PairAsync(FaultPlan.None, new FaultPlan { StallReadsAfterBytes = 0 });
        await SendAsync(dialed, Frame(10, 1));
        var read = accepted.ReadFrameAsync().AsTask();
        await accepted.DisposeAsync();
        var e = await Assert.ThrowsAsync<FlowException>(() => read.WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Aborted, e.Code);
        await DisposeAllAsync(protocol, dialed, listener);
    }

    [Fact]
    public async Task AnInvalidPlanFailsTheDialWithBadArgAndClosesTheLink()
    {
        var protocol = new FaultProtocol(new MemoryProtocol(), "memory", _ => new FaultPlan { MaxPieceBytes = 0 });
        await using var listener = await protocol.ListenAsync("fault", "");
        var accept = listener.AcceptAsync().AsTask();
        var e = await Assert.ThrowsAsync<FlowException>(async () => await protocol.DialAsync("fault", listener.Address, Timeout));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        Assert.Contains("MaxPieceBytes", e.Message);
        Assert.Equal(0, protocol.RunningPumps);
        var accepted = await Assert.ThrowsAsync<FlowException>(() => accept.WaitAsync(Timeout)); // its plan is as bad
        Assert.Equal(FlowErrorCode.BadArg, accepted.Code);
    }

    [Fact]
    public void PlansDescribeThemselves()
    {
        Assert.Equal("no faults", FaultPlan.None.ToString());
        Assert.Equal("cut after 5 B, pieces of 1-7 B, flip 0x80 at byte 9, stall reads after 3 B for good",
            new FaultPlan { CutAfterBytes = 5, MaxPieceBytes = 7, FlipAtByte = 9, FlipMask = 0x80, StallReadsAfterBytes = 3 }.ToString());
        Assert.True(new FaultPlan { ResetAfterBytes = 1 }.IsLossy);
        Assert.False(new FaultPlan { MaxPieceBytes = 1, PieceDelay = TimeSpan.FromMilliseconds(1) }.IsLossy);
    }

    private sealed class ResettingTransport(PipeReader input, PipeWriter output) : IPipeTransport
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;

        public EndPoint? LocalAddress => null;

        public EndPoint? RemoteAddress => null;

        public long? BytesSent => null;

        public FlowException? ReceiveError { get; set; }

        public void Abort(Exception reason) => Input.CancelPendingRead();

        public ValueTask DisposeAsync()
        {
            Input.Complete();
            Output.Complete();
            return default;
        }
    }
}
