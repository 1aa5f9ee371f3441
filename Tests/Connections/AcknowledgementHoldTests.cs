using System.Buffers;
using System.Threading.Channels;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// A flow the peer opened is in the accept backlog before the connection queued its acknowledgement, so an application
/// can take it, read and wait first. These tests make the application win that race every time: the backlog's writer
/// runs it inline, before the offer returns to the connection. A rogue peer sends the opens, so what rides with each
/// is exact.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class AcknowledgementHoldTests
{
    private const int Window = 256 * 1024;

    [Fact]
    public async Task ReadsBeforeTheAcknowledgementWentOutDoNotShrinkWhatItGrants()
    {
        // The soak's hang (issue 19): reads before the offer shrank the window beside a flow of messages, the
        // acknowledgement granted the shrunk size while this side counted the whole window as granted, and the two sides
        // then waited for each other with the difference lost between them.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var backlog = Channel.CreateUnbounded<IFlow>();
        var app = new RacingApplication(backlog.Writer);
        var options = new ConnectionOptions { TimeProvider = time, InitialFlowWindow = Window, MessageTrafficWindow = 64 * 1024 };
        var (rogue, victimTask, listener) = await RoguePeer.ConnectAsync(app, options);
        await using var _l = listener;
        await using var _r = rogue;
        await using var victim = await victimTask.WaitAsync(TestTimeout);

        // A flow of messages: small, and the second one arrives while its reader waits. In the next interval the
        // connection holds windows to MessageTrafficWindow beside it.
        await rogue.SendAsync(new OpenFlow(1, 1000, DataFlags.None, Bytes(100)));
        var messages = await backlog.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await ReadExactlyAsync(messages, new byte[100]);
        var waiting = messages.ReadAsync(new byte[100]).AsTask();
        await rogue.SendAsync(new Data(1, DataFlags.None, Bytes(100)));
        Assert.Equal(100, await waiting.WaitAsync(TestTimeout));
        time.Advance(TimeSpan.FromMilliseconds(5));

        // A bulk open with a quarter window on it, read before the offer: the window shrinks by that much.
        app.Enabled = true;
        await rogue.SendAsync(new OpenFlow(3, 1000, DataFlags.None, Bytes(Window / 4)));
        var bulk = (Flow)await backlog.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal(Window / 4, app.ReadBeforeOffer);
        Assert.True(bulk.ReceiveWindow < Window, "the window did not shrink before the offer");

        var ack = await rogue.ReadUntilAsync<Release>(r => r.Credits.Any(c => c.FlowId == 3));
        Assert.True(ack is not null, "the flow was never acknowledged");
        Assert.Equal((ulong)Window, ack!.Credits.Single(c => c.FlowId == 3).Bytes);
    }

    [Fact]
    public async Task AReaderThatWaitsBeforeTheAcknowledgementWasQueuedStillSendsIt()
    {
        // Acknowledgements ride with replies, and a reader that waits sends its flow's at once. Here the reader waits
        // before the offer queued the acknowledgement: the offer must send it, or nothing does until this side writes.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow); // no health checks whose records could carry it
        var backlog = Channel.CreateUnbounded<IFlow>();
        var app = new RacingApplication(backlog.Writer);
        var (rogue, victimTask, listener) = await RoguePeer.ConnectAsync(app, new ConnectionOptions { TimeProvider = time },
            victimAcknowledgementsRide: true);
        await using var _l = listener;
        await using var _r = rogue;
        await using var victim = await victimTask.WaitAsync(TestTimeout);
        Assert.NotNull(await rogue.ReadUntilAsync<HealthCheckRequest>()); // the first RTT sample's; unanswered, the last

        app.Enabled = true;
        await rogue.SendAsync(new OpenFlow(1, 1000, DataFlags.None, Bytes(1000)));
        _ = await backlog.Reader.ReadAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal(1000, app.ReadBeforeOffer);
        Assert.False(app.PendingRead!.IsCompleted);

        var ack = await rogue.ReadUntilAsync<Release>(r => r.Credits.Any(c => c.FlowId == 1));
        Assert.True(ack is not null, "the flow was never acknowledged");
        Assert.Equal((ulong)new ConnectionOptions().InitialFlowWindow, ack!.Credits.Single(c => c.FlowId == 1).Bytes);
    }

    private static ReadOnlySequence<byte> Bytes(int count) => new(new byte[count]);

    /// <summary>
    /// The accept backlog, with an application that takes the next flow as it enters, on the connection's read loop and
    /// before the offer goes on: it reads what arrived with the open and starts a read that waits.
    /// </summary>
    private sealed class RacingApplication(ChannelWriter<IFlow> backlog) : ChannelWriter<IFlow>
    {
        private readonly byte[] _buffer = new byte[Window];

        public volatile bool Enabled;

        public int ReadBeforeOffer { get; private set; }

        public Task<int>? PendingRead { get; private set; }

        public override bool TryWrite(IFlow item)
        {
            // Before the flow enters the backlog, so the test reads what the race did once it takes the flow.
            if (Enabled)
            {
                Enabled = false;
                Race(item);
            }

            return backlog.TryWrite(item);
        }

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) =>
            backlog.WaitToWriteAsync(cancellationToken);

        private void Race(IFlow flow)
        {
            while (true)
            {
                var read = flow.ReadAsync(_buffer);
                if (!read.IsCompleted)
                {
                    PendingRead = read.AsTask();
                    return;
                }

                ReadBeforeOffer += read.Result;
            }
        }
    }
}
