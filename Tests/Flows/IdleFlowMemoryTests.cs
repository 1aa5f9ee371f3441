using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Tests.Flows;

/// <summary>
/// What an idle flow keeps (issue 21): once the application has read every byte it received, the flow holds no
/// receive queue, so a thousand idle flows hold no thousand queues; the next bytes take one again.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class IdleFlowMemoryTests
{
    private static void Deliver(Flow flow, ConnectionCounters counters, byte[] payload)
    {
        var record = RecordBuffer.Rent(counters, payload.Length);
        payload.CopyTo(record.Array, 0);
        Assert.True(flow.Deliver(record, 0, payload.Length, close: false));
        record.Release();
    }

    [Fact]
    public async Task ADrainedFlowHoldsNoReceiveQueueAndTakesOneForTheNextBytes()
    {
        var connection = new FakeFlowConnection();
        var flow = new Flow(connection, 2, isLocal: false, receiveWindow: 64 * 1024, sendCredit: 64 * 1024);
        Assert.False(flow.HoldsReceiveQueue);

        Deliver(flow, connection.Counters, [1, 2, 3]);
        Assert.True(flow.HoldsReceiveQueue);

        var buffer = new byte[2];
        Assert.Equal(2, await flow.ReadAsync(buffer));
        Assert.True(flow.HoldsReceiveQueue); // one byte is still unread
        Assert.Equal(1, await flow.ReadAsync(buffer));
        Assert.Equal(3, buffer[0]);
        Assert.False(flow.HoldsReceiveQueue);
        Assert.Equal(0, connection.Counters.OutstandingBuffers);

        Deliver(flow, connection.Counters, [4]);
        Assert.True(flow.HoldsReceiveQueue);
        var message = await flow.ReadMessageAsync();
        Assert.Equal(new byte[] { 4 }, message);
        Assert.False(flow.HoldsReceiveQueue);
    }

    [Fact]
    public async Task ADisposedFlowGivesItsUnreadBytesAndItsQueueBack()
    {
        var connection = new FakeFlowConnection();
        var flow = new Flow(connection, 2, isLocal: false, receiveWindow: 64 * 1024, sendCredit: 64 * 1024);
        Deliver(flow, connection.Counters, new byte[100]);
        Assert.True(flow.HoldsReceiveQueue);

        await flow.DisposeAsync();

        Assert.False(flow.HoldsReceiveQueue);
        Assert.Equal(0, connection.Counters.OutstandingBuffers);
    }
}
