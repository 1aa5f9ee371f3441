using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// Disposing a flow closes its write side gracefully and then aborts it for a peer that has not finished, both in one
/// record; a flow the peer already closed is disposed without sending anything.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FlowDisposeTests
{
    [Theory]
    [InlineData("memory")]
    [InlineData("tcp")]
    public async Task DisposeSendsCloseAndCloseFlowInOneRecordAndThePeerStillReadsEverything(string protocol)
    {
        await using var peers = await ConnectAsync(protocol);
        await WaitUntilAsync(() => peers.Dialer.Rtt > TimeSpan.Zero && peers.Acceptor.Rtt > TimeSpan.Zero);

        var flow = peers.Dialer.OpenFlow();
        await flow.WriteAsync("hello"u8.ToArray());
        var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        var received = new byte[5];
        await ReadExactlyAsync(accepted, received);
        await WaitUntilAsync(() => peers.Dialer.Counters.RecordsReceived == peers.Acceptor.Counters.RecordsSent);
        var recordsBefore = peers.Dialer.Counters.RecordsSent;

        // The acceptor has not closed its side, so disposal must also tell it to stop.
        await flow.DisposeAsync();

        await accepted.Closed.WaitAsync(TestTimeout);
        Assert.Equal(recordsBefore + 1, peers.Dialer.Counters.RecordsSent);
        Assert.Equal("hello"u8.ToArray(), received);
        Assert.Equal(0, await accepted.ReadAsync(new byte[1])); // the Close flag came first: a clean end of stream
        var e = await Assert.ThrowsAsync<FlowException>(async () => await accepted.WriteAsync(new byte[1]));
        Assert.Equal(FlowErrorCode.Aborted, e.Code);

        // Nothing left to send for the acceptor's end: disposing it sends no record and does not throw.
        var acceptorRecords = peers.Acceptor.Counters.RecordsSent;
        await accepted.DisposeAsync();
        Assert.Equal(acceptorRecords, peers.Acceptor.Counters.RecordsSent);
        await WaitUntilAsync(() => peers.Dialer.Counters.OpenFlows == 0 && peers.Acceptor.Counters.OpenFlows == 0);
    }

    [Fact]
    public async Task DisposeAfterThePeerFinishedSendsOnlyTheClose()
    {
        await using var peers = await ConnectAsync();
        var flow = peers.Dialer.OpenFlow();
        await flow.WriteAsync(new byte[] { 1 });
        var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await accepted.WriteAsync(new byte[] { 2 });
        await accepted.CloseWriteAsync();
        Assert.Equal(new byte[] { 2 }, await ReadToEndAsync(flow));

        await flow.DisposeAsync();

        // The peer finished first, so this is a graceful close: it reads the byte and a clean end, no abort.
        Assert.Equal(new byte[] { 1 }, await ReadToEndAsync(accepted));
        await accepted.Closed.WaitAsync(TestTimeout);
        await accepted.DisposeAsync();
        await WaitUntilAsync(() => peers.Dialer.Counters.OpenFlows == 0 && peers.Acceptor.Counters.OpenFlows == 0);
    }

    [Fact]
    public async Task DisposingDuringAWriteAfterThePeerFinishedStillEndsThePeersStream()
    {
        // Disposal cannot send its Close while a write holds the flow; a peer that had finished its side was then told
        // nothing (it gets a reset only while it still sends) and waited for the end of a stream that never came.
        await using var peers = await ConnectAsync();
        var flow = peers.Dialer.OpenFlow();
        await flow.WriteAsync(new byte[] { 1 });
        var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await accepted.CloseWriteAsync();
        Assert.Empty(await ReadToEndAsync(flow));

        // Far beyond the peer's window: the write waits for credit while the peer does not read.
        var write = flow.WriteAsync(new byte[8 * 1024 * 1024]).AsTask();
        await flow.DisposeAsync();

        var cut = await Assert.ThrowsAsync<FlowException>(() => ReadToEndAsync(accepted).WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, cut.Code);
        Assert.Equal(FlowErrorCode.Aborted, (await Assert.ThrowsAsync<FlowException>(() => write.WaitAsync(TestTimeout))).Code);
        await accepted.DisposeAsync();
        await WaitUntilAsync(() => peers.Dialer.Counters.OpenFlows == 0 && peers.Acceptor.Counters.OpenFlows == 0);
    }

    [Fact]
    public async Task ManyFlowsOpenedUsedAndDisposedConcurrentlyLeaveNothingBehind()
    {
        await using var peers = await ConnectAsync("tcp");
        var server = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (var i = 0; i < 64; i++)
            {
                var accepted = await peers.AcceptorAccepts.ReadAsync();
                echoes.Add(Task.Run(async () =>
                {
                    await using var _ = accepted;
                    var buffer = new byte[128];
                    await ReadExactlyAsync(accepted, buffer);
                    await accepted.WriteAsync(buffer);
                }));
            }

            await Task.WhenAll(echoes);
        });
        var clients = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            IFlow flow = peers.Dialer.OpenFlow();
            await using var _ = flow;
            var message = Enumerable.Repeat((byte)i, 128).ToArray();
            await flow.WriteAsync(message);
            var echo = new byte[128];
            await ReadExactlyAsync(flow, echo);
            Assert.Equal(message, echo);
        })).ToArray();

        await Task.WhenAll(clients).WaitAsync(TestTimeout);
        await server.WaitAsync(TestTimeout);
        await WaitUntilAsync(() => peers.Dialer.Counters.OpenFlows == 0 && peers.Acceptor.Counters.OpenFlows == 0);
        Assert.Equal(0, peers.Acceptor.Counters.BufferedBytes);
    }
}
