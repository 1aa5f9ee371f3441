using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Protocols.Sockets;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>
/// A peer's last words survive its reset: the frames it sent before resetting the connection are read first, then the
/// reset. (A pipe completed with an error throws it at once and drops what it buffered, which once made a refused
/// dialer report <c>Network</c> instead of the <c>NotTrusted</c> teardown its peer had sent.)
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class SocketResetTests
{
    [Fact]
    public async Task FramesSentBeforeAResetAreReadBeforeTheReset()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var local = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await local.ConnectAsync(listener.LocalEndPoint!);
        using var peer = await listener.AcceptAsync();
        var transport = new SocketTransport(local, "tcp", new FramingOptions());
        await using var framed = new PipeFramedConnection(transport, "tcp", FramingOptions.DefaultMaxFrameSize);

        var lastWords = "the peer's teardown"u8.ToArray();
        await peer.SendAsync(Encode(lastWords));
        peer.LingerState = new LingerOption(true, 0); // close with a reset, not an orderly end
        peer.Close();

        // Read nothing until the transport has met the reset, which is what lost the frame before.
        await WaitUntilAsync(() => transport.ReceiveError is not null, () => "the reset never reached the transport");

        var read = await framed.ReadFrameAsync().AsTask().WaitAsync(TestTimeout);
        Assert.False(read.IsCompleted);
        Assert.Equal(lastWords, read.Payload.ToArray());
        var reset = await Assert.ThrowsAsync<FlowException>(async () => await framed.ReadFrameAsync().AsTask().WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Network, reset.Code);
    }
}
