using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's outbound work and the send lock that guards it (Vanadium's <c>writeq</c>): control messages, which
/// go out first; flows that have something they may send, served round-robin; and a flow whose whole message did not
/// fit the record being built. The same lock guards every flow's <see cref="FlowSendState"/>, the send side of the
/// <see cref="CreditLedger"/> and whether the connection is closing, so the writer builds a record with one
/// acquisition and nothing is queued behind the final TearDown.
/// </summary>
internal sealed class SendQueue(CreditLedger ledger)
{
    private readonly Queue<Flow> _ready = new();
    private readonly Queue<Message> _control = new();
    private Flow? _deferred;
    private bool _closing;
    private bool _teardownQueued;

    /// <summary>
    /// The send lock. Lock order: it is never held together with a flow's receive lock (in either order) and never
    /// across an await; the connection's other state is lock-free (the flow table, the receive budget, counters).
    /// </summary>
    public Lock Lock { get; } = new();

    /// <summary>Whether the connection is closing; a hint from any thread, exact under the lock.</summary>
    public bool IsClosing => Volatile.Read(ref _closing);

    // ---- a flow's writes: each takes the lock once ----

    /// <summary>Registers a write (or close) of <paramref name="flow"/> and queues it; false when there is nothing to wait for.</summary>
    public bool BeginWrite(Flow flow, ReadOnlyMemory<byte> data, bool close)
    {
        lock (Lock)
        {
            if (!flow.Send.BeginWrite(data, close, RecordLayout.MaxPayload))
            {
                return false;
            }

            MakeReadyLocked(flow);
            return true;
        }
    }

    public void EndWrite(Flow flow, CancellationToken cancellationToken)
    {
        lock (Lock)
        {
            flow.Send.EndWrite(cancellationToken);
        }
    }

    public void CancelWrite(Flow flow)
    {
        bool cancelled;
        lock (Lock)
        {
            cancelled = flow.Send.CancelWrite();
        }

        if (cancelled)
        {
            flow.Send.SignalWriteDone();
        }
    }

    public void DisableFragmentation(Flow flow)
    {
        lock (Lock)
        {
            flow.Send.DisableFragmentation();
        }
    }

    /// <summary>
    /// Disposal is starting: when the writer sends this flow's Close flag it appends the CloseFlow that disposal would
    /// otherwise send in a record of its own (a second seal, flush and wake-up). False when the send half already failed.
    /// </summary>
    public bool PrepareDispose(Flow flow)
    {
        lock (Lock)
        {
            return flow.Send.PrepareDispose();
        }
    }

    // ---- the writer's queues ----

    /// <summary>Queues <paramref name="flow"/> for the writer if it has something it may send and is not queued yet.</summary>
    public void MakeReadyLocked(Flow flow)
    {
        if (flow.Send.TryEnterReadyQueue(ledger.SharedSendCreditLocked))
        {
            _ready.Enqueue(flow);
        }
    }

    public void EnqueueControlLocked(Message message) => _control.Enqueue(message);

    /// <summary>Queues a control message unless the connection is closing; true when queued (the caller wakes the writer).</summary>
    public bool TryEnqueueControl(Message message)
    {
        lock (Lock)
        {
            if (_closing)
            {
                return false;
            }

            _control.Enqueue(message);
            return true;
        }
    }

    /// <summary>Starts closing, queueing <paramref name="tearDown"/> last if given; false when already closing.</summary>
    public bool TryBeginClosingLocked(TearDown? tearDown)
    {
        if (_closing)
        {
            return false;
        }

        Volatile.Write(ref _closing, true);
        if (tearDown is not null)
        {
            _control.Enqueue(tearDown);
            _teardownQueued = true;
        }

        return true;
    }

    public bool IsClosingLocked => _closing;

    public bool HasReadyLocked => _ready.Count > 0;

    public bool HasControlLocked => _control.Count > 0;

    public bool IsDeferredLocked => _deferred is not null;

    /// <summary>Anything left for another record.</summary>
    public bool HasMoreLocked => _ready.Count > 0 || _control.Count > 0 || ledger.HasReleasesLocked || _deferred is not null;

    /// <summary>Whether the writer has anything to do, including closing.</summary>
    public bool HasWork()
    {
        lock (Lock)
        {
            return _closing || HasMoreLocked;
        }
    }

    /// <summary>Whether the final TearDown is still waiting to be written.</summary>
    public bool HasQueuedTearDown()
    {
        lock (Lock)
        {
            return _teardownQueued;
        }
    }

    /// <summary>Takes the next control message if its encoding fits in <paramref name="room"/> bytes.</summary>
    public bool TryDequeueControlLocked(int room, out Message message)
    {
        if (!_control.TryPeek(out message!) || MessageCodec.GetEncodedLength(message) > room)
        {
            return false;
        }

        _control.Dequeue();
        if (message is TearDown)
        {
            _teardownQueued = false;
        }

        return true;
    }

    public bool TryDequeueReadyLocked(out Flow flow)
    {
        if (!_ready.TryDequeue(out flow!))
        {
            return false;
        }

        flow.Send.LeaveReadyQueue();
        return true;
    }

    /// <summary>Holds back a flow whose message needs an emptier record: it goes first in the next one.</summary>
    public void DeferLocked(Flow flow) => _deferred = flow;

    public Flow? TakeDeferredLocked()
    {
        var deferred = _deferred;
        _deferred = null;
        return deferred;
    }

    /// <summary>The connection closed: drops whatever was still queued.</summary>
    public void ClearLocked()
    {
        _ready.Clear();
        _control.Clear();
        ledger.ClearReleasesLocked();
        _deferred = null;
    }
}
