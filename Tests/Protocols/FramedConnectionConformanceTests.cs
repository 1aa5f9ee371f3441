using System.Buffers;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Protocols.Sockets;
using FlowOrleans.Transport.Protocols.WebSockets;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>What every built-in protocol's connections must do, checked over real sockets where the protocol is real.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FramedConnectionConformanceTests
{
    public static TheoryData<string> Protocols => ["tcp", "unix", "memory", "ws", "wsh", "wsh-ws"];

    public static TheoryData<string> SocketProtocols => ["tcp", "unix", "ws", "wsh", "wsh-ws"];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task RandomFramesUpToTheMaximumRoundTripBothWaysConcurrently(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        int max = pair.Client.MaxFrameSize;
        int[] toServer = FrameSizes(seed: 3, count: 120, max);
        int[] toClient = FrameSizes(seed: 4, count: 120, max);

        Task<byte[]> clientSent = WriteTrafficAsync(pair.Client, 33, toServer);
        Task<byte[]> serverSent = WriteTrafficAsync(pair.Server, 44, toClient);
        Task<byte[]> serverReceived = ReadTrafficAsync(pair.Server, toServer);
        Task<byte[]> clientReceived = ReadTrafficAsync(pair.Client, toClient);

        Assert.Equal(await Within(clientSent), await Within(serverReceived));
        Assert.Equal(await Within(serverSent), await Within(clientReceived));
    }

    [Theory]
    [MemberData(nameof(SocketProtocols))]
    public async Task RandomFramesRoundTripWhenReceivesDoNotWaitForData(string kind)
    {
        var options = new FramingOptions { WaitForDataBeforeAllocatingBuffer = false };
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind, options);
        int[] sizes = FrameSizes(seed: 5, count: 60, pair.Client.MaxFrameSize);

        Task<byte[]> sent = WriteTrafficAsync(pair.Client, 55, sizes);
        Task<byte[]> received = ReadTrafficAsync(pair.Server, sizes);

        Assert.Equal(await Within(sent), await Within(received));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ManyFramesCommittedBeforeOneFlushArriveIntact(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        byte[][] payloads = [.. Enumerable.Range(0, 500).Select(i => Enumerable.Repeat((byte)i, i % 97).ToArray())];
        byte[] large = [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7))];

        foreach (byte[] payload in payloads)
        {
            WriteFrame(pair.Client, payload);
        }

        WriteFrame(pair.Client, large);
        long? sendsBefore = SendOperations(pair.Client);
        await Within(pair.Client.FlushAsync(Ct));

        foreach (byte[] expected in payloads)
        {
            Assert.Equal(expected, await ReceiveAsync(pair.Server));
        }

        Assert.Equal(large, await ReceiveAsync(pair.Server));

        // Socket transports hand the whole batch to the OS in a single (gather) send. A send the socket buffer could
        // not take at once is counted when it completes, which may be after the flush returned.
        if (sendsBefore is long before)
        {
            await Connections.ConnectionTestKit.WaitUntilAsync(() => SendOperations(pair.Client) > before);
            Assert.Equal(before + 1, SendOperations(pair.Client));
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PingPongKeepsOrderAndContent(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        for (int i = 0; i < 200; i++)
        {
            byte[] ping = [.. Enumerable.Repeat((byte)i, 128)];
            await SendAsync(pair.Client, ping);
            byte[] received = await ReceiveAsync(pair.Server);
            Assert.Equal(ping, received);
            await SendAsync(pair.Server, received);
            Assert.Equal(ping, await ReceiveAsync(pair.Client));
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PeerDisposingBetweenFramesIsACleanEndOfStream(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        await SendAsync(pair.Client, [1, 2, 3]);
        await pair.Client.DisposeAsync();

        Assert.Equal(new byte[] { 1, 2, 3 }, await ReceiveAsync(pair.Server));
        FrameReadResult end = await Within(pair.Server.ReadFrameAsync(Ct));
        Assert.True(end.IsCompleted);
        Assert.True(end.Payload.IsEmpty);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task AbortFailsAPendingReadAndThePeerStopsReceiving(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        ValueTask<FrameReadResult> pending = pair.Client.ReadFrameAsync(Ct);

        pair.Client.Abort();

        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pair.Client.FlushAsync(Ct)));

        // The peer sees the end of the connection: an orderly close (sockets) or a reset (memory), never a hang.
        await AssertPeerSeesTheEndAsync(pair.Server);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ConnectionsDescribeThemselves(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        Assert.Equal(ConnectedPair.ConnectionProtocol(kind), pair.Client.Protocol);
        Assert.Equal(ConnectedPair.ConnectionProtocol(kind), pair.Server.Protocol);
        Assert.Equal(FramingOptions.DefaultMaxFrameSize, pair.Client.MaxFrameSize);
        Assert.NotNull(pair.Client.RemoteAddress);
        Assert.NotNull(pair.Server.LocalAddress);
        if (kind != "unix")
        {
            // Unix clients are unnamed sockets; every other protocol names both ends.
            Assert.Equal(pair.Client.RemoteAddress!.ToString(), pair.Server.LocalAddress!.ToString());
            Assert.Equal(pair.Client.LocalAddress!.ToString(), pair.Server.RemoteAddress!.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PendingWriteBytesCountsCommittedFramesUntilTheyLeave(string kind)
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        WriteFrame(pair.Client, new byte[1000]);
        WriteFrame(pair.Client, new byte[24]);

        // Length-prefixed protocols count their prefixes; WebSockets add their headers only when sending.
        Assert.InRange(pair.Client.PendingWriteBytes, 1000 + 24, 1000 + 24 + (2 * FramingOptions.LengthPrefixSize));

        await Within(pair.Client.FlushAsync(Ct));
        await ReceiveAsync(pair.Server);
        await ReceiveAsync(pair.Server);

        // Received by the peer, so certainly handed to the OS.
        Assert.Equal(0, pair.Client.PendingWriteBytes);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task AFrameAboveTheReceiversLimitIsABadArgument(string kind)
    {
        var receiver = new FramingOptions { MaxFrameSize = FramingOptions.MinimumMaxFrameSize };
        var sender = new FramingOptions { MaxFrameSize = 4 * FramingOptions.MinimumMaxFrameSize };
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind, options: receiver, dialerOptions: sender);
        if (pair.Client.MaxFrameSize == pair.Server.MaxFrameSize)
        {
            // One memory network shares one set of options; the raw-pipe tests cover that case.
            Assert.Equal("memory", kind);
            return;
        }

        WriteFrame(pair.Client, new byte[FramingOptions.MinimumMaxFrameSize + 1]);
        await Within(pair.Client.FlushAsync(Ct));

        await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(pair.Server.ReadFrameAsync(Ct)));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task AFrameAboveTheReadLimitIsRefusedAndTheLimitCanBeRaisedAgain(string kind)
    {
        // How the connection layer holds an unauthenticated peer to the handshake's largest frame.
        await using ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        var limited = Assert.IsAssignableFrom<IFrameReadLimit>(pair.Server);
        limited.ReadLimit = 1000;
        WriteFrame(pair.Client, new byte[1000]);
        WriteFrame(pair.Client, new byte[1001]);
        await Within(pair.Client.FlushAsync(Ct));

        Assert.Equal(1000, (await ReceiveAsync(pair.Server)).Length);
        await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(pair.Server.ReadFrameAsync(Ct)));

        await using ConnectedPair again = await ConnectedPair.CreateAsync(kind);
        var raised = (IFrameReadLimit)again.Server;
        raised.ReadLimit = 1000;
        raised.ReadLimit = int.MaxValue; // held to the connection's own maximum
        Assert.Equal(again.Server.MaxFrameSize, raised.ReadLimit);
        WriteFrame(again.Client, new byte[50_000]);
        await Within(again.Client.FlushAsync(Ct));
        Assert.Equal(50_000, (await ReceiveAsync(again.Server)).Length);
    }

    [Theory]
    [MemberData(nameof(SocketProtocols))]
    public async Task DisposingLeavesNoSocketOrLoopRunning(string kind)
    {
        ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        await SendAsync(pair.Client, [5]);
        await ReceiveAsync(pair.Server);
        SocketTransport client = TransportOf(pair.Client);
        SocketTransport server = TransportOf(pair.Server);
        Assert.False(client.ProcessingTask.IsCompleted);

        await pair.DisposeAsync();

        Assert.True(client.ProcessingTask.IsCompletedSuccessfully);
        Assert.True(server.ProcessingTask.IsCompletedSuccessfully);
        Assert.True(client.IsSocketClosed);
        Assert.True(server.IsSocketClosed);
    }

    [Theory]
    [MemberData(nameof(SocketProtocols))]
    public async Task AbortThenDisposeLeavesNoLoopRunning(string kind)
    {
        ConnectedPair pair = await ConnectedPair.CreateAsync(kind);
        SocketTransport client = TransportOf(pair.Client);
        SocketTransport server = TransportOf(pair.Server);

        pair.Client.Abort();
        await Within(client.ProcessingTask);
        Assert.True(client.IsSocketClosed);

        // The peer's receive loop sees the close (an orderly end, or for WebSockets a close without handshake);
        // its send loop ends with the peer's disposal.
        await AssertPeerSeesTheEndAsync(pair.Server);
        await pair.DisposeAsync();
        Assert.True(server.ProcessingTask.IsCompletedSuccessfully);
        Assert.True(server.IsSocketClosed);
    }

    [Theory]
    [MemberData(nameof(SocketProtocols))]
    public async Task DisposingWhilePeerDoesNotReadGivesUpAfterTheDrainTimeout(string kind)
    {
        var options = new FramingOptions
        {
            DrainTimeout = TimeSpan.FromMilliseconds(200),
            OutputPauseThreshold = 16L * 1024 * 1024,
        };
        ConnectedPair pair = await ConnectedPair.CreateAsync(kind, options);
        SocketTransport client = TransportOf(pair.Client);

        // Far more than the kernel buffers hold, with nobody reading on the other side.
        for (int i = 0; i < 12; i++)
        {
            pair.Client.GetFrameBuffer(1024 * 1024);
            pair.Client.CommitFrame();
        }

        await Within(pair.Client.FlushAsync(Ct));
        Assert.True(pair.Client.PendingWriteBytes > 0);

        await Within(pair.Client.DisposeAsync());

        Assert.True(client.ProcessingTask.IsCompletedSuccessfully);
        Assert.True(client.IsSocketClosed);
        await pair.DisposeAsync();
    }

    private static async Task AssertPeerSeesTheEndAsync(IFramedConnection peer)
    {
        try
        {
            Assert.True((await Within(peer.ReadFrameAsync(Ct))).IsCompleted);
        }
        catch (FlowException e)
        {
            Assert.Equal(FlowErrorCode.Network, e.Code);
        }
    }

    private static long? SendOperations(IFramedConnection connection) =>
        connection is PipeFramedConnection { Transport: SocketTransport socket } ? socket.SendOperations
        : connection is WebSocketFramedConnection { Transport: SocketTransport webSocket } ? webSocket.SendOperations
        : null;

    private static SocketTransport TransportOf(IFramedConnection connection) =>
        Assert.IsType<SocketTransport>(connection switch
        {
            PipeFramedConnection framed => framed.Transport,
            WebSocketFramedConnection webSocket => webSocket.Transport,
            _ => throw new InvalidOperationException($"Unexpected connection type {connection.GetType()}."),
        });
}
