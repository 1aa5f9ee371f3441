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
/// <remarks>
/// What waits for a peer that does not read is bounded (docs/security.md, "Transport: memory budgets"): the answer to
/// its health checks is one slot holding the latest nonce, its lame duck notices are acknowledged once, credit owed
/// is one release per flow, and the bytes of everything queued are counted (<see cref="ConnectionCounters.QueuedControlBytes"/>)
/// so the read loop can close a connection whose peer lets them pass <see cref="ConnectionOptions.ControlBudget"/>.
/// </remarks>
internal sealed class SendQueue(CreditLedger ledger, ConnectionCounters counters)
{
    /// <summary>What a queued control message costs beyond its encoding: the object and its queue slot.</summary>
    public const int ControlEntryCost = 40;

    private readonly Queue<Flow> _ready = new();
    private readonly Queue<Message> _control = new();
    private Flow? _deferred;
    private bool _closing;
    private bool _teardownQueued;
    private bool _healthAnswerPending;
    private ulong _healthAnswerNonce;
    private bool _lameDuckAckPending;

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
        if (flow.Send.TryEnterReadyQueue(ledger.SharedSendCreditLocked, out var waitsForShared))
        {
            _ready.Enqueue(flow);
        }
        else if (waitsForShared)
        {
            ledger.NoteSharedWaiterLocked();
        }
    }

    public void EnqueueControlLocked(Message message)
    {
        _control.Enqueue(message);
        counters.QueuedControl(Cost(message));
    }

    /// <summary>
    /// Answers the peer's health check <paramref name="nonce"/> unless the connection is closing; true when the caller
    /// should wake the writer. Only the latest answer waits: the peer measures with its newest request.
    /// </summary>
    public bool AnswerHealthCheck(ulong nonce)
    {
        lock (Lock)
        {
            if (_closing)
            {
                return false;
            }

            if (!_healthAnswerPending)
            {
                _healthAnswerPending = true;
                counters.QueuedControl(AnswerCost);
            }

            _healthAnswerNonce = nonce;
            return true;
        }
    }

    /// <summary>Acknowledges the peer's lame duck notice unless the connection is closing; one acknowledgement waits however many notices came.</summary>
    public bool AcknowledgeLameDuck()
    {
        lock (Lock)
        {
            if (_closing)
            {
                return false;
            }

            if (!_lameDuckAckPending)
            {
                _lameDuckAckPending = true;
                counters.QueuedControl(AnswerCost);
            }

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
            EnqueueControlLocked(tearDown);
            _teardownQueued = true;
        }

        return true;
    }

    public bool IsClosingLocked => _closing;

    public bool HasReadyLocked => _ready.Count > 0;

    public bool HasControlLocked => _control.Count > 0 || _healthAnswerPending || _lameDuckAckPending;

    public bool IsDeferredLocked => _deferred is not null;

    /// <summary>Anything left for another record.</summary>
    public bool HasMoreLocked => _ready.Count > 0 || HasControlLocked || ledger.HasReleasesLocked || _deferred is not null;

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

    /// <summary>Takes the next control message if its encoding fits in <paramref name="room"/> bytes: answers first, then the queue.</summary>
    public bool TryDequeueControlLocked(int room, out Message message)
    {
        if (room >= AnswerSize)
        {
            if (_healthAnswerPending)
            {
                _healthAnswerPending = false;
                counters.QueuedControl(-AnswerCost);
                message = new HealthCheckResponse(_healthAnswerNonce);
                return true;
            }

            if (_lameDuckAckPending)
            {
                _lameDuckAckPending = false;
                counters.QueuedControl(-AnswerCost);
                message = new AckLameDuck();
                return true;
            }
        }

        if (!_control.TryPeek(out message!))
        {
            return false;
        }

        var length = MessageCodec.GetEncodedLength(message);
        if (length > room)
        {
            return false;
        }

        _control.Dequeue();
        counters.QueuedControl(-(length + ControlEntryCost));
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
        while (_control.TryDequeue(out var message))
        {
            counters.QueuedControl(-Cost(message));
        }

        if (_healthAnswerPending || _lameDuckAckPending)
        {
            counters.QueuedControl(-AnswerCost * ((_healthAnswerPending ? 1 : 0) + (_lameDuckAckPending ? 1 : 0)));
            _healthAnswerPending = _lameDuckAckPending = false;
        }

        ledger.ClearLocked();
        _deferred = null;
    }

    // An answer (a health check response or a lame duck acknowledgement) is at most this long encoded, and costs this
    // much while it waits.
    private const int AnswerSize = 1 + 1 + 10;
    private const int AnswerCost = AnswerSize + ControlEntryCost;

    private static long Cost(Message message) => MessageCodec.GetEncodedLength(message) + ControlEntryCost;
}
