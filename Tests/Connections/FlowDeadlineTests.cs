using FlowOrleans.Transport;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FlowDeadlineTests
{
    [Fact]
    public async Task APassedDeadlineAbortsPendingAndLaterOperationsAndTellsThePeer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var peers = await ConnectAsync(dialerOptions: o => o.TimeProvider = time);
        var flow = peers.Dialer.OpenFlow();
        await flow.WriteAsync(new byte[] { 1 });
        var accepted = await peers.AcceptorAccepts.ReadAsync();
        flow.SetDeadline(time.GetUtcNow().AddSeconds(5));
        var read = flow.ReadAsync(new byte[1]).AsTask();
        time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(20);
        Assert.False(read.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(2));
        var e = await Assert.ThrowsAsync<FlowException>(() => read.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, e.Code);
        Assert.Contains("deadline", e.Message);
        var write = await Assert.ThrowsAsync<FlowException>(async () => await flow.WriteAsync(new byte[1]));
        Assert.Equal(FlowErrorCode.Aborted, write.Code);
        await flow.Closed.WaitAsync(TestTimeout);

        // The peer learns the flow is gone: what it had is still readable, then the abort shows.
        var buffer = new byte[1];
        Assert.Equal(1, await accepted.ReadAsync(buffer));
        var peerRead = await Assert.ThrowsAsync<FlowException>(async () => await accepted.ReadAsync(buffer).AsTask().WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Aborted, peerRead.Code);

        // The connection itself is unaffected.
        var other = peers.Dialer.OpenFlow();
        await other.WriteMessageAndCloseAsync([new byte[] { 2 }]);
        Assert.Equal(new byte[] { 2 }, await ReadToEndAsync(await peers.AcceptorAccepts.ReadAsync()));
    }
}
