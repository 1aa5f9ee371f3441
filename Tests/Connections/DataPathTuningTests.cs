using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Records;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>Window auto-tuning, credit batching and record buffers: the data path's tuning decisions.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class DataPathTuningTests
{
    private static readonly TimeSpan Rtt = TimeSpan.FromMicroseconds(100);

    [Fact]
    public void AWindowGrowsOnlyWhenConsumedWithinTwoRttsByAReaderThatWaited()
    {
        // Window-limited: a whole window went by in about one round trip and the reader had to wait for it.
        Assert.True(WindowTuning.ShouldGrow(TimeSpan.FromMicroseconds(110), Rtt, starved: true));

        // The window already covers the path with room to spare: a queue is building, and more would only queue more.
        Assert.False(WindowTuning.ShouldGrow(TimeSpan.FromMicroseconds(250), Rtt, starved: true));

        // The reader never waited, so it is the bottleneck and a bigger window would only fill its queue.
        Assert.False(WindowTuning.ShouldGrow(TimeSpan.FromMicroseconds(10), Rtt, starved: false));

        // No clean RTT sample yet: nothing to judge by.
        Assert.False(WindowTuning.ShouldGrow(TimeSpan.FromMicroseconds(10), TimeSpan.Zero, starved: true));
    }

    [Fact]
    public void OnlyRttSamplesTakenWhileNoDataMovedSetTheMinimum()
    {
        var rtt = new RttEstimator();

        // An answer that queued behind data is the latest RTT, but says nothing about the path's own delay.
        rtt.OnSample(TimeSpan.FromMicroseconds(300), dataMoved: true);
        Assert.Equal(TimeSpan.FromMicroseconds(300), rtt.Latest);
        Assert.Equal(TimeSpan.Zero, rtt.Min);

        rtt.OnSample(TimeSpan.FromMicroseconds(40), dataMoved: false);
        rtt.OnSample(TimeSpan.FromMicroseconds(20), dataMoved: true);
        Assert.Equal(TimeSpan.FromMicroseconds(20), rtt.Latest);
        Assert.Equal(TimeSpan.FromMicroseconds(40), rtt.Min);

        rtt.OnSample(TimeSpan.FromMicroseconds(30), dataMoved: false);
        Assert.Equal(TimeSpan.FromMicroseconds(30), rtt.Min);
    }

    [Fact]
    public async Task CreditForABulkFlowGoesOutEveryHalfWindowNotEveryQuarter()
    {
        const int total = 4 * 1024 * 1024;
        const int window = 256 * 1024;
        await using var peers = await ConnectAsync(
            dialerOptions: o => { o.InitialFlowWindow = window; o.MaxFlowWindow = window; },
            acceptorOptions: o => { o.InitialFlowWindow = window; o.MaxFlowWindow = window; });
        var sender = peers.Dialer.OpenFlow();
        var data = new byte[total];
        Random.Shared.NextBytes(data);
        var write = Task.Run(async () =>
        {
            await sender.WriteAsync(data);
            await sender.CloseWriteAsync();
        });
        var receiver = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        var sentBefore = peers.Acceptor.Counters.RecordsSent;

        // Small reads, so credit accrues in many small steps: it must still reach the sender in time (no stall).
        var received = new byte[total];
        var offset = 0;
        while (offset < total)
        {
            var n = await receiver.ReadAsync(received.AsMemory(offset, Math.Min(16 * 1024, total - offset))).AsTask().WaitAsync(TestTimeout);
            Assert.NotEqual(0, n);
            offset += n;
        }

        await write.WaitAsync(TestTimeout);
        Assert.Equal(data, received);

        // The acceptor only returns credit (plus a few health checks and their answers). A record per quarter window would be
        // 64 records for 4 MiB (48 measured before); waking the writer every half window halves that (18-24 measured).
        var records = peers.Acceptor.Counters.RecordsSent - sentBefore;
        Assert.InRange(records, 1, (total / (window / 2)) + 4);
    }

    [Theory]
    [InlineData(32 * 1024)]
    [InlineData(null)]
    public async Task ABulkFlowBesideAFlowOfMessagesKeepsItsWindowSmallUntilTheMessagesStop(int? besideMessages)
    {
        const int window = 128 * 1024;
        const int chunk = 2 * 1024 * 1024;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var peers = await ConnectAsync(
            dialerOptions: o => { o.InitialFlowWindow = window; o.MaxFlowWindow = window; },
            acceptorOptions: o =>
            {
                o.InitialFlowWindow = window;
                o.MaxFlowWindow = window;
                o.MessageTrafficWindow = besideMessages;
                o.TimeProvider = time;
            });

        // A flow of messages: small, and the second one arrives while its reader waits for it.
        var messages = peers.Dialer.OpenFlow();
        await messages.WriteAsync(new byte[100]);
        var messagesIn = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await ReadExactlyAsync(messagesIn, new byte[100]);
        var waiting = messagesIn.ReadAsync(new byte[100]).AsTask();
        await messages.WriteAsync(new byte[100]);
        Assert.Equal(100, await waiting.WaitAsync(TestTimeout));

        // The next interval judges by that one: bulk data now is held to the window beside messages.
        time.Advance(TimeSpan.FromMilliseconds(5));
        var bulk = peers.Dialer.OpenFlow();
        await bulk.WriteAsync(new byte[1]);
        var bulkIn = (Flow)await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await ReadExactlyAsync(bulkIn, new byte[1]);
        await MoveAsync(bulk, bulkIn, chunk);
        Assert.Equal(besideMessages ?? window, bulkIn.ReceiveWindow);

        // Once the messages have stopped for a while, the bulk flow gets its whole window back.
        time.Advance(TimeSpan.FromSeconds(1));
        await MoveAsync(bulk, bulkIn, chunk);
        Assert.Equal(window, bulkIn.ReceiveWindow);
    }

    /// <summary>Writes <paramref name="bytes"/> random bytes on <paramref name="from"/> and checks they all arrive on <paramref name="to"/>.</summary>
    private static async Task MoveAsync(IFlow from, IFlow to, int bytes)
    {
        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        var write = Task.Run(async () => await from.WriteAsync(data));
        var received = new byte[bytes];
        await ReadExactlyAsync(to, received);
        await write.WaitAsync(TestTimeout);
        Assert.Equal(data, received);
    }

    [Fact]
    public void AWindowBesideMessagesBelowTheMinimumWindowIsRejected()
    {
        var options = new ConnectionOptions { MinFlowWindow = 32 * 1024, MessageTrafficWindow = 16 * 1024 };
        var error = Assert.Throws<FlowException>(options.Validate);
        Assert.Equal(FlowErrorCode.BadArg, error.Code);
        Assert.Contains(nameof(ConnectionOptions.MessageTrafficWindow), error.Message, StringComparison.Ordinal);

        options.MessageTrafficWindow = null;
        options.Validate();
    }

    [Fact]
    public async Task MinRttIsMeasuredAndNeverAboveTheLatestSample()
    {
        await using var peers = await ConnectAsync();
        var deadline = DateTime.UtcNow + TestTimeout;
        while (peers.Dialer.MinRtt == TimeSpan.Zero && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.True(peers.Dialer.MinRtt > TimeSpan.Zero);
        Assert.True(peers.Dialer.MinRtt <= peers.Dialer.Rtt);
    }

    [Fact]
    public void FullRecordsUseExactArraysBelowTheLargeObjectHeapAndSmallOnesTheSharedPool()
    {
        var full = RecordPool.Rent(RecordLayout.MaxPlaintext);
        var big = RecordPool.Rent(RecordPool.SmallRecord + 1);
        var small = RecordPool.Rent(100);
        try
        {
            Assert.Equal(RecordLayout.MaxPlaintext, full.Length);
            Assert.Equal(RecordLayout.MaxPlaintext, big.Length);
            Assert.True(full.Length < 85_000, "a record array must stay off the large object heap");
            Assert.InRange(small.Length, 100, RecordPool.SmallRecord);
        }
        finally
        {
            RecordPool.Return(full);
            RecordPool.Return(big);
            RecordPool.Return(small);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => RecordPool.Rent(RecordLayout.MaxPlaintext + 1));
    }
}
