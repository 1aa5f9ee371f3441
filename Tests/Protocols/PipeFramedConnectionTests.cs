using System.Buffers;
using System.IO.Pipelines;
using CsCheck;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Framing;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>The length-prefix framing on its own, over plain pipes and raw bytes.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PipeFramedConnectionTests
{
    private const int MaxFrame = FramingOptions.DefaultMaxFrameSize;

    private static readonly PipeOptions RoomyPipe = new(
        pauseWriterThreshold: 4L * MaxFrame,
        resumeWriterThreshold: 2L * MaxFrame,
        useSynchronizationContext: false);

    [Fact]
    public async Task RandomFramesRoundTripBothWaysConcurrently()
    {
        var (a, b) = CreatePair();
        await using (a)
        await using (b)
        {
            int[] aToB = FrameSizes(seed: 1, count: 150, MaxFrame);
            int[] bToA = FrameSizes(seed: 2, count: 150, MaxFrame);

            Task<byte[]> aSent = WriteTrafficAsync(a, 11, aToB);
            Task<byte[]> bSent = WriteTrafficAsync(b, 22, bToA);
            Task<byte[]> bReceived = ReadTrafficAsync(b, aToB);
            Task<byte[]> aReceived = ReadTrafficAsync(a, bToA);

            Assert.Equal(await Within(aSent), await Within(bReceived));
            Assert.Equal(await Within(bSent), await Within(aReceived));
        }
    }

    [Fact]
    public async Task FramesParseBackHoweverTheBytesAreChunked()
    {
        var frames = Gen.Byte.Array[0, 300].Array[0, 12];
        var cuts = Gen.Int[1, 64].Array[1, 40];
        await Gen.Select(frames, cuts).SampleAsync(
            async (payloads, chunkSizes) =>
            {
                byte[] wire = Encode(payloads);
                var (connection, raw, _) = CreateFedByRaw();
                await using (connection)
                {
                    // Feed the bytes in uneven pieces so prefixes and payloads straddle segment boundaries.
                    int offset = 0;
                    for (int i = 0; offset < wire.Length; i++)
                    {
                        int take = Math.Min(chunkSizes[i % chunkSizes.Length], wire.Length - offset);
                        await raw.WriteAsync(wire.AsMemory(offset, take), Ct);
                        offset += take;
                    }

                    await raw.CompleteAsync();
                    foreach (byte[] expected in payloads)
                    {
                        Assert.Equal(expected, await ReceiveAsync(connection));
                    }

                    Assert.True((await Within(connection.ReadFrameAsync(Ct))).IsCompleted);
                }
            },
            iter: 300);
    }

    [Theory]
    [InlineData(MaxFrame + 1)]
    [InlineData(int.MaxValue)]
    [InlineData(-1)] // 0xFFFFFFFF: a length with the sign bit set
    public async Task OversizedLengthPrefixIsRejectedBeforeThePayloadArrives(int announced)
    {
        var (connection, raw, _) = CreateFedByRaw();
        await using (connection)
        {
            // Only the prefix is sent: if the framing waited for the payload, this read would never finish.
            await raw.WriteAsync(Prefix(announced), Ct);

            await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(connection.ReadFrameAsync(Ct)));

            // The connection stays failed rather than reinterpreting the rest of the stream.
            await raw.WriteAsync(Encode([[1, 2, 3]]), Ct);
            await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(connection.ReadFrameAsync(Ct)));
        }
    }

    [Fact]
    public async Task LengthPrefixOfExactlyTheMaximumIsAccepted()
    {
        var (connection, raw, _) = CreateFedByRaw();
        await using (connection)
        {
            byte[] payload = new byte[MaxFrame];
            payload[^1] = 0xAB;
            await raw.WriteAsync(Encode([payload]), Ct);

            Assert.Equal(payload, await ReceiveAsync(connection));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 5 })]
    [InlineData(new byte[] { 0, 0, 0, 5, 1, 2, 3, 4 })]
    public async Task EndOfStreamInsideAFrameIsANetworkError(byte[] truncated)
    {
        var (connection, raw, _) = CreateFedByRaw();
        await using (connection)
        {
            await raw.WriteAsync(Encode([[9, 9]]), Ct);
            await raw.WriteAsync(truncated, Ct);
            await raw.CompleteAsync();

            Assert.Equal(new byte[] { 9, 9 }, await ReceiveAsync(connection));
            await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(connection.ReadFrameAsync(Ct)));
            await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(connection.ReadFrameAsync(Ct)));
        }
    }

    [Fact]
    public async Task EndOfStreamBetweenFramesIsACleanCompletion()
    {
        var (connection, raw, _) = CreateFedByRaw();
        await using (connection)
        {
            await raw.WriteAsync(Encode([[1], []]), Ct);
            await raw.CompleteAsync();

            Assert.Equal(new byte[] { 1 }, await ReceiveAsync(connection));
            Assert.Empty(await ReceiveAsync(connection));
            for (int i = 0; i < 2; i++)
            {
                FrameReadResult end = await Within(connection.ReadFrameAsync(Ct));
                Assert.True(end.IsCompleted);
                Assert.True(end.Payload.IsEmpty);
            }
        }
    }

    [Fact]
    public async Task CommittedFramesLeaveAsOneCoalescedWrite()
    {
        var (connection, _, sent) = CreateFedByRaw();
        await using (connection)
        {
            byte[][] payloads = [.. Enumerable.Range(0, 100).Select(i => Enumerable.Repeat((byte)i, i * 37).ToArray())];
            long expectedBytes = payloads.Sum(p => p.Length + FramingOptions.LengthPrefixSize);
            foreach (byte[] payload in payloads)
            {
                WriteFrame(connection, payload);
            }

            Assert.Equal(expectedBytes, connection.PendingWriteBytes);
            Assert.False(sent.TryRead(out _), "Nothing may leave before the flush.");

            await Within(connection.FlushAsync(Ct));

            Assert.Equal(0, connection.PendingWriteBytes);
            Assert.True(sent.TryRead(out ReadResult result), "The flush must deliver everything at once.");
            Assert.Equal(Encode(payloads), result.Buffer.ToArray());
            sent.AdvanceTo(result.Buffer.End);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(MaxFrame + 1)]
    public async Task FrameBufferOutsideTheLimitIsABadArgument(int length)
    {
        var (connection, _, _) = CreateFedByRaw();
        await using (connection)
        {
            FlowException e = Assert.Throws<FlowException>(() => connection.GetFrameBuffer(length));
            Assert.Equal(FlowErrorCode.BadArg, e.Code);
        }
    }

    [Fact]
    public async Task CommitWithoutABufferIsABadState()
    {
        var (connection, _, _) = CreateFedByRaw();
        await using (connection)
        {
            FlowException e = Assert.Throws<FlowException>(connection.CommitFrame);
            Assert.Equal(FlowErrorCode.BadState, e.Code);
        }
    }

    [Fact]
    public async Task AbortFailsAPendingReadAndEverythingAfter()
    {
        var (a, b) = CreatePair();
        await using (a)
        await using (b)
        {
            ValueTask<FrameReadResult> pending = a.ReadFrameAsync(Ct);
            Assert.False(pending.IsCompleted);

            a.Abort(new InvalidOperationException("test abort"));

            FlowException e = await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
            Assert.Contains("test abort", e.Message, StringComparison.Ordinal);
            await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(a.ReadFrameAsync(Ct)));
            Assert.Equal(FlowErrorCode.Aborted, Assert.Throws<FlowException>(() => a.GetFrameBuffer(1)).Code);
            await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(a.FlushAsync(Ct)));
        }
    }

    [Fact]
    public async Task AbortFailsAFlushWaitingOnBackPressure()
    {
        var toPeer = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false));
        var fromPeer = new Pipe(RoomyPipe);
        var connection = new PipeFramedConnection(new DuplexPipeTransport(fromPeer.Reader, toPeer.Writer), "pipe", MaxFrame);
        await using (connection)
        {
            WriteFrame(connection, new byte[4096]);
            ValueTask flush = connection.FlushAsync(Ct);
            Assert.False(flush.IsCompleted, "Nobody reads the peer side, so the flush must wait.");
            Assert.Equal(4100, connection.PendingWriteBytes);

            connection.Abort();

            await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(flush));
        }
    }

    [Fact]
    public async Task CancelledReadReportsAbortedAndLeavesTheConnectionUsable()
    {
        var (a, b) = CreatePair();
        await using (a)
        await using (b)
        {
            using var cancel = new CancellationTokenSource();
            ValueTask<FrameReadResult> pending = a.ReadFrameAsync(cancel.Token);
            await cancel.CancelAsync();

            FlowException e = await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
            Assert.IsType<OperationCanceledException>(e.InnerException, exactMatch: false);

            await SendAsync(b, [7, 8]);
            Assert.Equal(new byte[] { 7, 8 }, await ReceiveAsync(a));
        }
    }

    [Fact]
    public async Task DisposedConnectionReportsAborted()
    {
        var (a, b) = CreatePair();
        await using (b)
        {
            await a.DisposeAsync();
            await a.DisposeAsync(); // idempotent

            await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(a.ReadFrameAsync(Ct)));
            await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(a.FlushAsync(Ct)));
            Assert.Equal(FlowErrorCode.Aborted, Assert.Throws<FlowException>(() => a.GetFrameBuffer(0)).Code);

            // The peer sees a clean end of stream, and its writes report the closed transport.
            Assert.True((await Within(b.ReadFrameAsync(Ct))).IsCompleted);
            WriteFrame(b, [1]);
            await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(b.FlushAsync(Ct)));
        }
    }

    [Fact]
    public async Task TransportErrorsSurfaceAsNetworkErrors()
    {
        var (connection, raw, _) = CreateFedByRaw();
        await using (connection)
        {
            await raw.CompleteAsync(new IOException("wire cut"));

            FlowException e = await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(connection.ReadFrameAsync(Ct)));
            Assert.IsType<IOException>(e.InnerException);
        }
    }

    private static (PipeFramedConnection A, PipeFramedConnection B) CreatePair()
    {
        var aToB = new Pipe(RoomyPipe);
        var bToA = new Pipe(RoomyPipe);
        return (
            new PipeFramedConnection(new DuplexPipeTransport(bToA.Reader, aToB.Writer), "pipe", MaxFrame),
            new PipeFramedConnection(new DuplexPipeTransport(aToB.Reader, bToA.Writer), "pipe", MaxFrame));
    }

    /// <summary>A connection whose input is written raw by the test and whose output the test reads raw.</summary>
    private static (PipeFramedConnection Connection, PipeWriter Raw, PipeReader Sent) CreateFedByRaw()
    {
        var input = new Pipe(RoomyPipe);
        var output = new Pipe(RoomyPipe);
        var connection = new PipeFramedConnection(new DuplexPipeTransport(input.Reader, output.Writer), "pipe", MaxFrame);
        return (connection, input.Writer, output.Reader);
    }
}
