using FlowOrleans.Tests.Flows;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Connections;

/// <summary>The send queue on its own: control before data, flows in turn, deferral, and nothing after the TearDown.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SendQueueTests
{
    private readonly FakeFlowConnection _connection = new();
    private readonly ConnectionCounters _counters = new();
    private readonly CreditLedger _ledger;
    private readonly SendQueue _queue;

    public SendQueueTests()
    {
        _ledger = new CreditLedger(new ConnectionOptions(), _counters, peerSharedCredit: 256 * 1024);
        _queue = new SendQueue(_ledger, _counters);
    }

    private void Enqueue(Message message)
    {
        lock (_queue.Lock)
        {
            _queue.EnqueueControlLocked(message);
        }
    }

    [Fact]
    public void FlowsAreServedInTurnAndQueuedOnceEach()
    {
        var a = _connection.NewFlow(1);
        var b = _connection.NewFlow(3);
        lock (_queue.Lock)
        {
            _queue.MakeReadyLocked(a);
            _queue.MakeReadyLocked(b);
            _queue.MakeReadyLocked(a);

            Assert.True(_queue.TryDequeueReadyLocked(out var first));
            Assert.Same(a, first);
            _queue.MakeReadyLocked(a); // still has its open to send: back of the line
            Assert.True(_queue.TryDequeueReadyLocked(out var second));
            Assert.Same(b, second);
            Assert.True(_queue.TryDequeueReadyLocked(out var third));
            Assert.Same(a, third);
            Assert.False(_queue.TryDequeueReadyLocked(out _));
        }
    }

    [Fact]
    public void AFlowWithNothingItMaySendIsNotQueued()
    {
        var accepted = _connection.NewFlow(2, isLocal: false, credit: 0);
        lock (_queue.Lock)
        {
            _queue.MakeReadyLocked(accepted);
            Assert.False(_queue.HasReadyLocked);
        }

        Assert.True(_queue.BeginWrite(accepted, new byte[10], close: false));
        lock (_queue.Lock)
        {
            Assert.False(_queue.HasReadyLocked); // no credit yet
        }
    }

    [Fact]
    public void AWriteQueuesItsFlowAndASecondCloseHasNothingToWaitFor()
    {
        var accepted = _connection.NewFlow(2, isLocal: false, credit: 100);
        Assert.True(_queue.BeginWrite(accepted, ReadOnlyMemory<byte>.Empty, close: true));
        lock (_queue.Lock)
        {
            Assert.True(_queue.TryDequeueReadyLocked(out var flow));
            Assert.Same(accepted, flow);
            flow.Send.CommitChunk(0, close: true);
            flow.Send.TryCompleteWrite();
        }

        _queue.EndWrite(accepted, CancellationToken.None);
        Assert.False(_queue.BeginWrite(accepted, ReadOnlyMemory<byte>.Empty, close: true));
    }

    [Fact]
    public void ControlMessagesComeOutInOrderWhileTheyFitTheRoom()
    {
        Enqueue(new HealthCheckRequest(1));
        Enqueue(new CloseFlow(7, new string('x', 100)));
        lock (_queue.Lock)
        {
            Assert.True(_queue.HasControlLocked);
            Assert.True(_queue.TryDequeueControlLocked(room: 1000, out var first));
            Assert.IsType<HealthCheckRequest>(first);
            Assert.False(_queue.TryDequeueControlLocked(room: 50, out _)); // the CloseFlow needs more room
            Assert.True(_queue.TryDequeueControlLocked(room: 1000, out var second));
            Assert.IsType<CloseFlow>(second);
            Assert.False(_queue.HasMoreLocked);
        }
    }

    [Fact]
    public void ClosingQueuesTheTearDownLastAndRefusesEverythingAfter()
    {
        Enqueue(new HealthCheckRequest(1));
        lock (_queue.Lock)
        {
            Assert.True(_queue.TryBeginClosingLocked(new TearDown(FlowErrorCode.Aborted, "bye")));
            Assert.False(_queue.TryBeginClosingLocked(new TearDown(FlowErrorCode.Aborted, "again")));
        }

        Assert.True(_queue.IsClosing);
        Assert.False(_queue.AnswerHealthCheck(1));
        Assert.False(_queue.AcknowledgeLameDuck());
        Assert.True(_queue.HasQueuedTearDown());
        Assert.True(_queue.HasWork());
        lock (_queue.Lock)
        {
            Assert.True(_queue.TryDequeueControlLocked(1000, out var ping));
            Assert.IsType<HealthCheckRequest>(ping);
            Assert.True(_queue.TryDequeueControlLocked(1000, out var tearDown));
            Assert.IsType<TearDown>(tearDown);
            Assert.False(_queue.TryDequeueControlLocked(1000, out _));
        }

        Assert.False(_queue.HasQueuedTearDown());
        Assert.True(_queue.HasWork()); // closing is work: the writer must see it and stop
    }

    [Fact]
    public void ADeferredFlowIsTakenOnceAndClearingDropsEverything()
    {
        var a = _connection.NewFlow(1);
        lock (_queue.Lock)
        {
            _ledger.QueueReleaseLocked(9, 100);
            _queue.DeferLocked(a);
            Assert.True(_queue.IsDeferredLocked);
            Assert.Same(a, _queue.TakeDeferredLocked());
            Assert.Null(_queue.TakeDeferredLocked());

            _queue.DeferLocked(a);
            _queue.MakeReadyLocked(_connection.NewFlow(3));
            _queue.EnqueueControlLocked(new AckLameDuck());
            Assert.True(_queue.HasMoreLocked);
            _queue.ClearLocked();
            Assert.False(_queue.HasMoreLocked);
            Assert.False(_ledger.HasReleasesLocked);
        }
    }

    [Fact]
    public void OnlyTheLatestHealthAnswerAndOneLameDuckAcknowledgementWaitHoweverManyRequestsCame()
    {
        for (ulong nonce = 1; nonce <= 10_000; nonce++)
        {
            Assert.True(_queue.AnswerHealthCheck(nonce));
            Assert.True(_queue.AcknowledgeLameDuck());
        }

        var waiting = _counters.QueuedControlBytes;
        Assert.InRange(waiting, 1, 2 * 64);
        lock (_queue.Lock)
        {
            Assert.True(_queue.TryDequeueControlLocked(room: 1000, out var answer));
            Assert.Equal(10_000UL, Assert.IsType<HealthCheckResponse>(answer).Nonce);
            Assert.True(_queue.TryDequeueControlLocked(room: 1000, out var ack));
            Assert.IsType<AckLameDuck>(ack);
            Assert.False(_queue.TryDequeueControlLocked(room: 1000, out _));
        }

        Assert.Equal(0, _counters.QueuedControlBytes);
    }

    [Fact]
    public void QueuedControlBytesCountWhatWaitsAndDropToZeroWhenWrittenOrCleared()
    {
        Enqueue(new CloseFlow(7, new string('x', 100)));
        Assert.True(_counters.QueuedControlBytes > 100);
        lock (_queue.Lock)
        {
            Assert.True(_queue.TryDequeueControlLocked(room: 1000, out _));
        }

        Assert.Equal(0, _counters.QueuedControlBytes);

        Enqueue(new CloseFlow(9, "refused"));
        _queue.AnswerHealthCheck(5);
        lock (_queue.Lock)
        {
            _ledger.QueueReleaseLocked(11, 100);
            Assert.True(_counters.QueuedControlBytes > 0);
            _queue.ClearLocked();
        }

        Assert.Equal(0, _counters.QueuedControlBytes);
    }

    [Fact]
    public async Task ACancelledWriteWakesItsWriter()
    {
        var accepted = _connection.NewFlow(2, isLocal: false, credit: 0);
        _queue.BeginWrite(accepted, new byte[10], close: false);
        var wait = accepted.Send.WaitForWriteAsync().AsTask();

        _queue.CancelWrite(accepted);
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Throws<OperationCanceledException>(() => _queue.EndWrite(accepted, CancellationToken.None));
    }
}
