using System.Buffers;
using System.Security.Cryptography;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Records;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Proxy;

[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FlowFramedConnectionTests
{
    /// <summary>Connected peers and a framed flow opened by the dialer; the acceptor sees it after the first write.</summary>
    private static async Task<(FlowFramedConnection Writer, Peers Peers)> PairAsync(string protocol = "memory")
    {
        var peers = await ConnectAsync(protocol);
        return (new FlowFramedConnection(peers.Dialer.OpenFlow(), protocol), peers);
    }

    private static async Task<FlowFramedConnection> AcceptAsync(Peers peers) =>
        new(await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout), "memory");

    private static async Task WriteFrameAsync(FlowFramedConnection connection, byte[] frame)
    {
        frame.CopyTo(connection.GetFrameBuffer(frame.Length));
        connection.CommitFrame();
        await connection.FlushAsync().AsTask().WaitAsync(TestTimeout);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("tcp")]
    public async Task FramesOfEverySizeKeepTheirBoundaries(string protocol)
    {
        var (writer, peers) = await PairAsync(protocol);
        await using var _p = peers;
        int[] sizes = [1, 0, 100, FlowFramedConnection.MaxPiece - 1, FlowFramedConnection.MaxPiece, RecordLayout.MaxFrame, 3];
        var frames = sizes.Select(RandomNumberGenerator.GetBytes).ToArray();

        // Several frames committed before one flush, as the connection's writer loop does.
        foreach (var frame in frames)
        {
            frame.CopyTo(writer.GetFrameBuffer(frame.Length));
            writer.CommitFrame();
        }

        Assert.Equal(sizes.Sum(), writer.PendingWriteBytes);
        var flushing = writer.FlushAsync().AsTask();
        await using var reader = await AcceptAsync(peers);
        foreach (var expected in frames)
        {
            var result = await reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout);
            Assert.False(result.IsCompleted);
            Assert.Equal(expected, result.Payload.ToArray());
        }

        await flushing.WaitAsync(TestTimeout);
        Assert.Equal(0, writer.PendingWriteBytes);
        await writer.DisposeAsync();
        Assert.True((await reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout)).IsCompleted);
    }

    [Fact]
    public async Task AFrameAboveTheReadLimitIsRefusedAsSoonAsItsPiecesExceedIt()
    {
        // A connection through a proxy holds its unauthenticated peer to the handshake's largest frame too.
        var (writer, peers) = await PairAsync();
        await using var _p = peers;
        await using var __ = writer;
        await WriteFrameAsync(writer, new byte[Handshake.MaxFrame]);
        var writing = WriteFrameAsync(writer, new byte[Handshake.MaxFrame + 1]);
        await using var reader = await AcceptAsync(peers);
        ((Transport.Protocols.IFrameReadLimit)reader).ReadLimit = Handshake.MaxFrame;

        Assert.Equal(Handshake.MaxFrame, (await reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout)).Payload.Length);
        var e = await Assert.ThrowsAsync<FlowException>(async () => await reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        await writing;
    }

    [Fact]
    public async Task AFrameLargerThanAFlowMessageTravelsAsTwoPieces()
    {
        var (writer, peers) = await PairAsync();
        await using var _p = peers;
        await using var __ = writer;
        var frame = RandomNumberGenerator.GetBytes(RecordLayout.MaxFrame);
        var writing = WriteFrameAsync(writer, frame);
        var flow = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);

        var first = await flow.ReadMessageAsync().AsTask().WaitAsync(TestTimeout);
        var second = await flow.ReadMessageAsync().AsTask().WaitAsync(TestTimeout);

        Assert.Equal(FlowFramedConnection.MaxPiece, first!.Length);
        Assert.Equal(FlowFramedConnection.MorePieces, first[0]);
        Assert.Equal(FlowFramedConnection.LastPiece, second![0]);
        Assert.Equal(frame, first.AsSpan(1).ToArray().Concat(second.AsSpan(1).ToArray()).ToArray());
        await writing;
    }

    [Fact]
    public async Task MalformedPiecesAndOversizedFramesAreBadArg()
    {
        var (writer, peers) = await PairAsync();
        await using var _p = peers;
        await using var __ = writer;
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => writer.GetFrameBuffer(RecordLayout.MaxFrame + 1)).Code);
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => writer.GetFrameBuffer(-1)).Code);

        await writer.Flow.WriteMessageAsync([new byte[] { 7, 1, 2 }]); // leading byte neither LastPiece nor MorePieces
        await using var reader = await AcceptAsync(peers);
        var e = await Assert.ThrowsAsync<FlowException>(() => reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }

    [Fact]
    public async Task AFlowEndingInsideAFrameIsNetwork()
    {
        var (writer, peers) = await PairAsync();
        await using var _p = peers;
        await writer.Flow.WriteMessageAndCloseAsync([new byte[] { FlowFramedConnection.MorePieces, 1, 2 }]);
        await using var reader = await AcceptAsync(peers);

        var e = await Assert.ThrowsAsync<FlowException>(() => reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout));

        Assert.Equal(FlowErrorCode.Network, e.Code);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task AbortFailsPendingReadsWithAbortedAndResetsThePeer()
    {
        var (writer, peers) = await PairAsync();
        await using var _p = peers;
        await WriteFrameAsync(writer, [1]);
        await using var reader = await AcceptAsync(peers);
        Assert.Equal([1], (await reader.ReadFrameAsync().AsTask().WaitAsync(TestTimeout)).Payload.ToArray());
        var pending = reader.ReadFrameAsync().AsTask();

        reader.Abort();

        var e = await Assert.ThrowsAsync<FlowException>(() => pending.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, e.Code);
        await writer.Flow.Closed.WaitAsync(TestTimeout); // the peer's flow was reset too
        await writer.DisposeAsync();
    }
}
