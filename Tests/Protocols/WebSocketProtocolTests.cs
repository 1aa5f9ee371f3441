using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.WebSockets;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>The ws and wsh protocols: standard interop, the handshake's refusals, and the hybrid listener.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class WebSocketProtocolTests
{
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);
    private readonly WebSocketProtocol _ws = new();
    private readonly WebSocketHybridProtocol _wsh = new();

    [Fact]
    public async Task AStockWebSocketClientExchangesBinaryMessagesAsFrames()
    {
        await using IProtocolListener listener = await Within(_ws.ListenAsync("ws", "127.0.0.1:0", Ct));
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        using var client = new ClientWebSocket();
        await Within(client.ConnectAsync(new Uri($"ws://{listener.Address}/any/path"), Ct));
        await using IFramedConnection server = await Within(accepted);

        await Within(client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, Ct));
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReceiveAsync(server));

        await SendAsync(server, [4, 5], [6]);
        var buffer = new byte[16];
        foreach (byte[] expected in new[] { new byte[] { 4, 5 }, [6] })
        {
            ValueWebSocketReceiveResult message = await Within(client.ReceiveAsync(buffer.AsMemory(), Ct));
            Assert.Equal(WebSocketMessageType.Binary, message.MessageType);
            Assert.True(message.EndOfMessage);
            Assert.Equal(expected, buffer[..message.Count]);
        }

        // A normal close from the client is a clean end of stream for the server.
        await Within(client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", Ct));
        Assert.True((await Within(server.ReadFrameAsync(Ct))).IsCompleted);
    }

    [Fact]
    public async Task MessagesSplitIntoFragmentsArriveAsOneFrame()
    {
        await using IProtocolListener listener = await Within(_ws.ListenAsync("ws", "127.0.0.1:0", Ct));
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        using var client = new ClientWebSocket();
        await Within(client.ConnectAsync(new Uri($"ws://{listener.Address}/"), Ct));
        await using IFramedConnection server = await Within(accepted);

        byte[] payload = [.. Enumerable.Range(0, 100_000).Select(i => (byte)i)];
        for (int offset = 0; offset < payload.Length; offset += 7_000)
        {
            int count = Math.Min(7_000, payload.Length - offset);
            await Within(client.SendAsync(payload.AsMemory(offset, count), WebSocketMessageType.Binary, offset + count == payload.Length, Ct));
        }

        Assert.Equal(payload, await ReceiveAsync(server));
    }

    [Fact]
    public async Task ATextMessageIsABadArgument()
    {
        await using IProtocolListener listener = await Within(_ws.ListenAsync("ws", "127.0.0.1:0", Ct));
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        using var client = new ClientWebSocket();
        await Within(client.ConnectAsync(new Uri($"ws://{listener.Address}/"), Ct));
        await using IFramedConnection server = await Within(accepted);

        await Within(client.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, Ct));

        await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(server.ReadFrameAsync(Ct)));
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\n\r\n", "405")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "400")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "426")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n", "400")]
    [InlineData("GARBAGE\r\n\r\n", "400")]
    public async Task BadUpgradeRequestsAreRefusedWithAnHttpErrorAndTheListenerCarriesOn(string request, string status)
    {
        await using IProtocolListener listener = await Within(_ws.ListenAsync("ws", "127.0.0.1:0", Ct));

        string response = await ExchangeRawAsync(listener.Address, Encoding.ASCII.GetBytes(request));
        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);

        await AssertDialAndAcceptWorkAsync(listener);
    }

    [Fact]
    public async Task AnOversizedRequestHeadIsRefused()
    {
        await using IProtocolListener listener = await Within(_ws.ListenAsync("ws", "127.0.0.1:0", Ct));
        string request = "GET / HTTP/1.1\r\nX-Filler: " + new string('a', WebSocketHandshake.MaxRequestHeadSize) + "\r\n\r\n";

        string response = await ExchangeRawAsync(listener.Address, Encoding.ASCII.GetBytes(request));
        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidHandshakeAnswersTheRfcAcceptValue()
    {
        // The worked example of RFC 6455 section 1.3.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.AcceptValue("dGhlIHNhbXBsZSBub25jZQ=="));

        await using IProtocolListener listener = await Within(_ws.ListenAsync("ws", "127.0.0.1:0", Ct));
        string request = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        string response = await ExchangeRawAsync(listener.Address, Encoding.ASCII.GetBytes(request), closeAfterResponse: false);
        Assert.StartsWith("HTTP/1.1 101 ", response, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("wsh")]
    public async Task ASilentClientIsDroppedAfterTheHandshakeTimeoutWithoutBlockingOthers(string protocol)
    {
        // Long enough that the legitimate dial below finishes within it on a slow, busy machine (it must: the point is
        // that the silent client does not hold it up), short enough to wait for the silent client's drop.
        var options = new FramingOptions { HandshakeTimeout = TimeSpan.FromSeconds(2) };
        IProtocol implementation = ConnectedPair.CreateProtocol(protocol, options);
        await using IProtocolListener listener = await Within(implementation.ListenAsync(protocol, "127.0.0.1:0", Ct));
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Within(silent.ConnectAsync(IPEndPoint.Parse(listener.Address), Ct));

        await AssertDialAndAcceptWorkAsync(listener);

        // The server gives up on the silent client.
        await AssertClosedByServerAsync(silent);
    }

    [Fact]
    public async Task DialingSomethingThatIsNotAWebSocketServerFailsWithDialFailed()
    {
        using var notWebSocket = new TcpListener(IPAddress.Loopback, 0);
        notWebSocket.Start();
        Task answer = Task.Run(
            async () =>
            {
                using Socket peer = await notWebSocket.AcceptSocketAsync(Ct);
                var request = new byte[4096];
                await peer.ReceiveAsync(request, SocketFlags.None, Ct);
                await peer.SendAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), SocketFlags.None, Ct);
            },
            Ct);

        FlowException e = await ThrowsFlowAsync(
            FlowErrorCode.DialFailed,
            () => Within(_ws.DialAsync("ws", notWebSocket.LocalEndpoint.ToString()!, DialTimeout, Ct)));
        Assert.Contains(notWebSocket.LocalEndpoint.ToString()!, e.Message, StringComparison.Ordinal);
        await Within(answer);
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("wsh")]
    public async Task DialingAClosedPortOrUnknownHostFailsWithDialFailed(string protocol)
    {
        IProtocol implementation = ConnectedPair.CreateProtocol(protocol);
        string address;
        await using (IProtocolListener listener = await Within(implementation.ListenAsync(protocol, "127.0.0.1:0", Ct)))
        {
            address = listener.Address;
        }

        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(implementation.DialAsync(protocol, address, DialTimeout, Ct)));
        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(implementation.DialAsync(protocol, "no-such-host.invalid:80", DialTimeout, Ct)));
        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(implementation.DialAsync(protocol, "no-port", DialTimeout, Ct)));
    }

    [Theory]
    [InlineData("ws", "ws")]
    [InlineData("ws4", "ws4")]
    [InlineData("wsh", "tcp")]
    [InlineData("wsh6", "tcp6")]
    public async Task ResolveReportsTheProtocolToDialWith(string protocol, string reported)
    {
        IProtocol implementation = ConnectedPair.CreateProtocol(protocol);
        string address = protocol.EndsWith('6') ? "[::1]:80" : "127.0.0.1:80";

        ResolvedAddresses resolved = await Within(implementation.ResolveAsync(protocol, address, Ct));

        Assert.Equal(reported, resolved.Protocol);
        Assert.Equal([address], resolved.Addresses);
        await ThrowsFlowAsync(FlowErrorCode.ResolveFailed, () => Within(implementation.ResolveAsync(protocol, "no-such-host.invalid:80", Ct)));
        await ThrowsFlowAsync(FlowErrorCode.ResolveFailed, () => Within(implementation.ResolveAsync("tcp", address, Ct)));
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("wsh")]
    public async Task ListeningOnAnAddressInUseOrMalformedFails(string protocol)
    {
        IProtocol implementation = ConnectedPair.CreateProtocol(protocol);
        await using IProtocolListener first = await Within(implementation.ListenAsync(protocol, "127.0.0.1:0", Ct));

        await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(implementation.ListenAsync(protocol, first.Address, Ct)));
        await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(implementation.ListenAsync(protocol, "127.0.0.1", Ct)));
        await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(implementation.ListenAsync("tcp", "127.0.0.1:0", Ct)));
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("wsh")]
    public async Task DisposingTheListenerClosesQueuedAndHandshakingConnectionsAndStopsItsTasks(string protocol)
    {
        IProtocol implementation = ConnectedPair.CreateProtocol(protocol);
        IProtocolListener listener = await Within(implementation.ListenAsync(protocol, "127.0.0.1:0", Ct));
        var webSocketListener = Assert.IsType<WebSocketListener>(listener);

        // One connection handshaken but never accepted, and one silent client still being classified.
        await using IFramedConnection unaccepted = await Within(_ws.DialAsync("ws", listener.Address, DialTimeout, Ct));
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Within(silent.ConnectAsync(IPEndPoint.Parse(listener.Address), Ct));

        await Within(listener.DisposeAsync());

        Assert.True(webSocketListener.AcceptLoop.IsCompletedSuccessfully);
        Assert.True((await Within(unaccepted.ReadFrameAsync(Ct))).IsCompleted);
        await AssertClosedByServerAsync(silent);
        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(listener.AcceptAsync(Ct)));
    }

    [Theory]
    [InlineData("ws")]
    [InlineData("wsh")]
    public async Task DisposingTheListenerFailsAPendingAcceptWithAborted(string protocol)
    {
        IProtocolListener listener = await Within(ConnectedPair.CreateProtocol(protocol).ListenAsync(protocol, "127.0.0.1:0", Ct));
        ValueTask<IFramedConnection> pending = listener.AcceptAsync(Ct);
        Assert.False(pending.IsCompleted);

        await Within(listener.DisposeAsync());

        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
    }

    [Fact]
    public async Task AHybridListenerServesRawAndWebSocketClientsOnOnePort()
    {
        await using IProtocolListener listener = await Within(_wsh.ListenAsync("wsh", "127.0.0.1:0", Ct));

        await using IFramedConnection raw = await Within(_wsh.DialAsync("wsh", listener.Address, DialTimeout, Ct));
        await SendAsync(raw, [1]);
        await using IFramedConnection webSocket = await Within(_ws.DialAsync("ws", listener.Address, DialTimeout, Ct));
        await SendAsync(webSocket, [2]);
        Assert.Equal("tcp", raw.Protocol);
        Assert.Equal("ws", webSocket.Protocol);

        var byProtocol = new Dictionary<string, IFramedConnection>();
        for (int i = 0; i < 2; i++)
        {
            IFramedConnection accepted = await Within(listener.AcceptAsync(Ct));
            byProtocol.Add(accepted.Protocol, accepted);
        }

        await using IFramedConnection rawServer = byProtocol["tcp"];
        await using IFramedConnection webSocketServer = byProtocol["ws"];
        Assert.Equal(new byte[] { 1 }, await ReceiveAsync(rawServer));
        Assert.Equal(new byte[] { 2 }, await ReceiveAsync(webSocketServer));
        await SendAsync(rawServer, [3]);
        await SendAsync(webSocketServer, [4]);
        Assert.Equal(new byte[] { 3 }, await ReceiveAsync(raw));
        Assert.Equal(new byte[] { 4 }, await ReceiveAsync(webSocket));
    }

    [Fact]
    public async Task WebSocketFramesCommittedTogetherLeaveInOneSend()
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync("ws");
        var client = Assert.IsType<WebSocketFramedConnection>(pair.Client);
        var transport = Assert.IsType<Transport.Protocols.Sockets.SocketTransport>(client.Transport);
        long sentBefore = transport.BytesSent ?? 0;
        long sendsBefore = transport.SendOperations;

        for (int i = 0; i < 50; i++)
        {
            WriteFrame(pair.Client, [(byte)i, (byte)i]);
        }

        Assert.Equal(100, pair.Client.PendingWriteBytes);
        await Within(pair.Client.FlushAsync(Ct));
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(new byte[] { (byte)i, (byte)i }, await ReceiveAsync(pair.Server));
        }

        // 50 masked client messages of 2 bytes: 6 header bytes each, all sent by then.
        Assert.Equal(50 * 8, (transport.BytesSent ?? 0) - sentBefore);
        Assert.Equal(sendsBefore + 1, transport.SendOperations);

        // The accepting side counts the same way, its handshake answer included.
        await SendAsync(pair.Server, [1, 2, 3]);
        await ReceiveAsync(pair.Client);
        Assert.Equal(0, pair.Server.PendingWriteBytes);
        Assert.Equal(0, pair.Client.PendingWriteBytes);
    }

    /// <summary>
    /// The server closed the socket: an orderly end of stream, or a reset when it was closed while still queued in
    /// the kernel (never accepted) or with our bytes unread.
    /// </summary>
    private static async Task AssertClosedByServerAsync(Socket socket)
    {
        try
        {
            Assert.Equal(0, await Within(socket.ReceiveAsync(new byte[16], SocketFlags.None, Ct)));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    private static async Task AssertDialAndAcceptWorkAsync(IProtocolListener listener)
    {
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        await using IFramedConnection client = await Within(new WebSocketProtocol().DialAsync("ws", listener.Address, DialTimeout, Ct));
        await using IFramedConnection server = await Within(accepted);
        await SendAsync(client, [9]);
        Assert.Equal(new byte[] { 9 }, await ReceiveAsync(server));
    }

    /// <summary>Sends raw bytes and returns what the server answers up to the end of its response head.</summary>
    private static async Task<string> ExchangeRawAsync(string address, byte[] request, bool closeAfterResponse = true)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Within(socket.ConnectAsync(IPEndPoint.Parse(address), Ct));
        await Within(socket.SendAsync(request, SocketFlags.None, Ct));

        var response = new StringBuilder();
        var buffer = new byte[1024];
        while (!response.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int received = await Within(socket.ReceiveAsync(buffer, SocketFlags.None, Ct));
            if (received == 0)
            {
                break;
            }

            response.Append(Encoding.ASCII.GetString(buffer, 0, received));
        }

        if (closeAfterResponse)
        {
            // A refused client is disconnected once the answer is out.
            await AssertClosedByServerAsync(socket);
        }

        return response.ToString();
    }
}
