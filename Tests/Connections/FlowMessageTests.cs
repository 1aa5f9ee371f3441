using System.Runtime.InteropServices;
using FlowOrleans.Transport.Flows;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// The message half of a flow as Vanadium's <c>flow.Flow</c> has it: <c>ReadMsg2</c> (reading into the caller's
/// buffer), the byte count <c>WriteMsg</c> returns, and <c>RemoteAddr</c>.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FlowMessageTests
{
    [Fact]
    public async Task ReadingAMessageIntoACallersBufferUsesTheBufferWhenTheMessageFits()
    {
        await using var peers = await ConnectAsync();
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        await flow.WriteMessageAsync([new byte[] { 1, 2, 3 }]);

        var buffer = new byte[16];
        var message = await accepted.ReadMessageAsync(buffer.AsMemory()).AsTask().WaitAsync(TestTimeout);
        Assert.NotNull(message);
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Value.ToArray());
        Assert.True(MemoryMarshal.TryGetArray<byte>(message.Value, out var segment));
        Assert.Same(buffer, segment.Array);
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..3]);
    }

    [Fact]
    public async Task AMessageLargerThanTheCallersBufferComesWholeInANewArray()
    {
        // Vanadium's ReadMsg2 may ignore a buffer that is too small: the caller always uses the slice it returns.
        await using var peers = await ConnectAsync();
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        flow.DisableFragmentation();
        var big = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        await flow.WriteMessageAsync([big]);

        var buffer = new byte[100];
        var message = await accepted.ReadMessageAsync(buffer.AsMemory()).AsTask().WaitAsync(TestTimeout);
        Assert.Equal(big, message!.Value.ToArray());
        Assert.True(MemoryMarshal.TryGetArray<byte>(message.Value, out var segment));
        Assert.NotSame(buffer, segment.Array);
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task ReadingAMessageIntoABufferReturnsNullAtEndOfStream()
    {
        await using var peers = await ConnectAsync();
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        await flow.CloseWriteAsync();
        Assert.Null(await accepted.ReadMessageAsync(new byte[8].AsMemory()).AsTask().WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task MessageWritesReturnTheBytesTheyWrote()
    {
        // Vanadium: WriteMsg returns the number of bytes written, the sum over all its buffers.
        await using var peers = await ConnectAsync();
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        Assert.Equal(7, await flow.WriteMessageAsync([new byte[3], new byte[4]]));
        Assert.Equal(5, await flow.WriteMessageAsync([new byte[5]]));
        Assert.Equal(0, await flow.WriteMessageAsync([])); // nothing to send completes at once, as an empty WriteAsync does
        Assert.Equal(0, await flow.WriteMessageAsync([ReadOnlyMemory<byte>.Empty]));
        Assert.Equal(2, await flow.WriteMessageAndCloseAsync([new byte[1], new byte[1]]));
        Assert.Equal(14, (await ReadToEndAsync(accepted)).Length);
    }

    [Fact]
    public async Task AFlowReportsTheRemoteAddressOfItsConnection()
    {
        await using var peers = await ConnectAsync();
        var (flow, accepted) = await OpenAcceptedAsync(peers);
        Assert.NotNull(flow.RemoteAddress);
        Assert.Equal(peers.Dialer.RemoteAddress, flow.RemoteAddress);
        Assert.Equal(peers.Acceptor.RemoteAddress, accepted.RemoteAddress);
        Assert.NotEqual(flow.RemoteAddress, accepted.RemoteAddress);
    }
}
