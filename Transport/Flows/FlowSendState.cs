using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// The send half of one flow: the single write the application has pending, the credit the flow may send on, and
/// where its open and close stand. The connection's writer takes chunks from it and its read loop gives it credit.
/// </summary>
/// <remarks>
/// Credit is a balance: what the peer granted minus what was sent. It goes negative, a debt held on the connection's
/// shared credit, in two cases only: bytes sent before the peer acknowledged the flow (the window is not known yet), and
/// a whole unfragmented message sent with less credit than its size. Credit granted later pays the debt back first
/// (docs/architecture.md, 3.4), and every change of the debt is reported to the caller, who keeps the shared credit.
/// </remarks>
/// <remarks>
/// A struct that lives inside its <see cref="Flow"/> (reached by reference, never copied), since an idle flow's memory
/// counts. Every member except <see cref="WaitForWriteAsync"/> is called with the connection's send lock held (the lock of its
/// <c>SendQueue</c>, which owns these states for the connection): the writer builds a record from many flows under
/// that one lock, so per-flow locks would only add acquisitions. The application's writer waits for
/// <see cref="WaitForWriteAsync"/> without any lock; the state wakes it when its write is done, failed or cancelled.
/// </remarks>
internal struct FlowSendState
{
    private readonly AsyncSignal _writeDone;
    private ReadOnlyMemory<byte> _pending;
    // The most credit a flow holds, whatever a peer releases: far above any window, far below overflow.
    private const long MaxCredit = 1L << 40;

    private long _credit;
    private bool _acked;
    private bool _openPending;
    private bool _writePending;
    private bool _writerHolds;
    private bool _writeCancelled;
    private bool _closeRequested;
    private bool _closeSent;
    private bool _unfragmented;
    private bool _finished;
    private FlowException? _error;
    private bool _inReadyQueue;
    private bool _ackHeld;
    private bool _ackRiding;
    private bool _ackFlushRequested;
    private int _heldCredit;
    private bool _resetOnClose;
    private bool _resetSent;

    /// <param name="isLocal">
    /// This side opened the flow: the open still has to go out, and until the peer acknowledges it the flow sends on
    /// the connection's shared credit. A flow the peer opened is acknowledged from the start.
    /// </param>
    /// <param name="credit">What the peer granted with its open (a flow it opened); zero for a local flow.</param>
    public FlowSendState(bool isLocal, long credit)
    {
        _writeDone = new AsyncSignal();
        _credit = credit;
        _acked = !isLocal;
        _openPending = isLocal;
    }

    /// <summary>The open has not gone out yet: the next chunk carries it.</summary>
    public bool OpensFlow => _openPending;

    /// <summary>The peer acknowledged the flow (or opened it); until then its bytes spend the shared credit.</summary>
    public bool IsAcknowledged => _acked;

    /// <summary>Bytes sent beyond the credit granted: what the flow holds of the connection's shared credit.</summary>
    public long Debt => Math.Max(0, -_credit);

    /// <summary>Nothing more will be sent: the flow closed, failed or was reset.</summary>
    public bool IsFinished => _finished;

    /// <summary>The Close flag went out.</summary>
    public bool CloseSent => _closeSent;

    /// <summary>Whether the send half failed (or was finished), so closing it would only throw.</summary>
    public bool HasFailed => _error is not null;

    /// <summary>A CloseFlow went out right after the Close flag, as disposal asked.</summary>
    public bool ResetSent => _resetSent;

    // ---- the application's writes ----

    /// <summary>
    /// Registers a write (or a close) of <paramref name="data"/>; false when there is nothing to wait for (a second
    /// close). Throws when the flow cannot take it.
    /// </summary>
    public bool BeginWrite(ReadOnlyMemory<byte> data, bool close, int maxMessage)
    {
        if (_error is { } error)
        {
            throw new FlowException(error.Code, error.Message, error);
        }

        if (_closeRequested)
        {
            if (close && data.IsEmpty)
            {
                return false; // closing twice is harmless
            }

            throw new FlowException(FlowErrorCode.BadState, "The flow's write side is closed.");
        }

        // The flow's one write is held from here until its writer ended it (EndWrite), not only while its bytes wait:
        // a write begun between the two (disposal's close racing the application's last write) would share the
        // write's signal and could take the completion meant for the other.
        if (_writerHolds)
        {
            throw new FlowException(FlowErrorCode.BadState, "Another write is already pending on this flow.");
        }

        if (_unfragmented && data.Length > maxMessage)
        {
            throw new FlowException(FlowErrorCode.BadArg,
                $"A message of {data.Length} bytes exceeds the {maxMessage}-byte limit of unfragmented flows.");
        }

        _pending = data;
        _closeRequested = close;
        _writePending = true;
        _writerHolds = true;
        _writeCancelled = false;
        return true;
    }

    /// <summary>Waits, without the send lock, until the pending write is done, failed or cancelled.</summary>
    public ValueTask WaitForWriteAsync() => _writeDone.WaitAsync();

    /// <summary>Ends a write after its wait: throws what went wrong, if anything.</summary>
    public void EndWrite(CancellationToken cancellationToken)
    {
        _writerHolds = false;
        if (_writeCancelled)
        {
            _writeCancelled = false;
            throw new OperationCanceledException(cancellationToken);
        }

        if (_writePending)
        {
            throw new InvalidOperationException("A write ended before the connection finished it.");
        }

        if (_error is { } error && (_pending.Length > 0 || !_closeSent))
        {
            _pending = default;
            throw new FlowException(error.Code, error.Message, error);
        }
    }

    /// <summary>
    /// Cancels the pending write: bytes already in records stay sent, the rest is dropped. True when there was one;
    /// the caller then wakes the writer with <see cref="SignalWriteDone"/>.
    /// </summary>
    public bool CancelWrite()
    {
        if (!_writePending)
        {
            return false;
        }

        _writePending = false;
        _writeCancelled = true;
        _pending = default;
        if (!_closeSent)
        {
            _closeRequested = false;
        }

        return true;
    }

    /// <summary>Wakes the application's writer; safe with or without the send lock.</summary>
    public void SignalWriteDone() => _writeDone.Set();

    /// <summary>From now on each write is one message, sent whole in one record.</summary>
    public void DisableFragmentation() => _unfragmented = true;

    /// <summary>
    /// Disposal is starting: the Close flag is to be followed by a CloseFlow in the same record. False when the send
    /// half already failed.
    /// </summary>
    public bool PrepareDispose()
    {
        _resetOnClose = true;
        return _error is null;
    }

    /// <summary>Ends the send half: a pending write fails with <paramref name="error"/> (or simply ends when null).</summary>
    public void Finish(FlowException? error)
    {
        _finished = true;
        _error ??= error ?? new FlowException(FlowErrorCode.Aborted, "The flow is closed.");
        _openPending = false;
        if (_writePending)
        {
            _writePending = false;
            _writeDone.Set();
        }
    }

    /// <summary>The peer closed the flow: nothing this side sends will be read, so its Close counts as sent.</summary>
    public void MarkCloseSent() => _closeSent = true;

    // ---- scheduling ----

    /// <summary>Bytes of a stream the flow may send now: its own credit once acknowledged, the connection's shared credit before.</summary>
    public long Sendable(long sharedCredit) => Math.Max(_acked ? _credit : sharedCredit, 0);

    /// <summary>
    /// Marks the flow as queued for the writer when it has something it may send now; false when it has nothing or is
    /// queued already. <paramref name="waitsForShared"/> tells that what it waits for is the shared credit.
    /// </summary>
    public bool TryEnterReadyQueue(long sharedCredit, out bool waitsForShared)
    {
        waitsForShared = false;
        if (_inReadyQueue || !IsReady(sharedCredit, out waitsForShared))
        {
            return false;
        }

        _inReadyQueue = true;
        return true;
    }

    /// <summary>The writer took the flow off its queue.</summary>
    public void LeaveReadyQueue() => _inReadyQueue = false;

    private bool IsReady(long sharedCredit, out bool waitsForShared)
    {
        waitsForShared = false;
        if (_finished)
        {
            return false;
        }

        if (_openPending)
        {
            return true;
        }

        if (_pending.Length > 0)
        {
            var ready = _unfragmented ? CanSendMessage(sharedCredit) : Sendable(sharedCredit) > 0;

            // A flow short of its own credit waits for a release, which queues it again; one short of the shared credit
            // (before its acknowledgement, or to overdraw for a whole message) waits for shared credit to come back.
            waitsForShared = !ready && (!_acked || (_unfragmented && _credit > 0));
            return ready;
        }

        return _closeRequested && !_closeSent;
    }

    /// <summary>
    /// Whether the pending unfragmented message may go now: within the flow's credit, or overdrawing positive credit
    /// (any credit before the acknowledgement) by no more than the shared credit left.
    /// </summary>
    private readonly bool CanSendMessage(long sharedCredit)
    {
        if (!_acked)
        {
            return _pending.Length <= sharedCredit;
        }

        return _credit >= _pending.Length || (_credit > 0 && _pending.Length - _credit <= sharedCredit);
    }

    /// <summary>
    /// What the next chunk is: its length within <paramref name="room"/>, the credit and <paramref name="mtu"/>, and
    /// whether it carries the Close flag. An unfragmented message goes whole or not at all, and may overdraw positive
    /// credit by what the shared credit covers; one that does not fit the room left is <see cref="ChunkPlan.Deferred"/>
    /// to an emptier record.
    /// </summary>
    public ChunkPlan PlanChunk(int room, long sharedCredit, int mtu, out int length, out bool close)
    {
        length = 0;
        close = false;
        if (_finished)
        {
            return ChunkPlan.Nothing;
        }

        if (_unfragmented && _pending.Length > 0)
        {
            if (CanSendMessage(sharedCredit))
            {
                if (_pending.Length > room)
                {
                    return ChunkPlan.Deferred;
                }

                length = _pending.Length;
            }
        }
        else
        {
            length = (int)Math.Min(Math.Min(_pending.Length, Sendable(sharedCredit)), Math.Min(mtu, room));
        }

        close = _closeRequested && !_closeSent && length == _pending.Length;
        return length == 0 && !close && !_openPending ? ChunkPlan.Nothing : ChunkPlan.Send;
    }

    /// <summary>Copies the next <paramref name="length"/> pending bytes into the record.</summary>
    public void CopyPending(int length, Span<byte> destination) => _pending.Span[..length].CopyTo(destination);

    /// <summary>
    /// Records that a planned chunk went into a record. Returns how much it added to the flow's debt: the shared credit
    /// it spent, which the caller then debits.
    /// </summary>
    public long CommitChunk(int length, bool close)
    {
        _openPending = false;
        _pending = _pending[length..];
        var debt = Debt;
        _credit -= length;
        if (close)
        {
            _closeSent = true;
        }

        return Debt - debt;
    }

    /// <summary>
    /// Whether the Close flag that just went out must be followed by a CloseFlow (the application disposed the flow and
    /// the peer has not finished its side). Marks it sent when it must.
    /// </summary>
    public bool TakeResetAfterClose(bool remoteClosed, bool connectionClosing)
    {
        if (!_resetOnClose || remoteClosed || connectionClosing)
        {
            return false;
        }

        _resetSent = true;
        return true;
    }

    /// <summary>Completes the pending write when all of it (and its close) went out; true when it did so now.</summary>
    public bool TryCompleteWrite()
    {
        if (!_writePending || !_pending.IsEmpty || (_closeRequested && !_closeSent))
        {
            return false;
        }

        _writePending = false;
        _writeDone.Set();
        return true;
    }

    // ---- credit from the peer ----

    /// <summary>
    /// Adds credit the peer released; the first release of a flow this side opened acknowledges it. The credit pays the
    /// flow's debt back first: returns how much of it, shared credit for the caller to give back to the connection.
    /// </summary>
    public long AddCredit(long bytes)
    {
        _acked = true;
        var debt = Debt;
        _credit = Math.Min(_credit + bytes, MaxCredit);
        return debt - Debt;
    }

    /// <summary>
    /// Takes the flow's whole debt off it (the peer reset the flow and dropped the bytes, or the flow leaves the table
    /// and its debt is kept by the connection until the peer settles it); returns it.
    /// </summary>
    public long TakeDebt()
    {
        var debt = Debt;
        if (debt > 0)
        {
            _credit = 0;
        }

        return debt;
    }

    // ---- credit to the peer (a flow the peer opened) ----

    /// <summary>
    /// Holds the flow's acknowledgement, the whole <paramref name="window"/> it was opened with, until the connection
    /// offered it to the application. The application may take the flow, read and wait before the offer queued the
    /// acknowledgement: what it releases meanwhile and whether it asked for the acknowledgement to go are kept here.
    /// </summary>
    public void HoldAcknowledgement(int window)
    {
        _ackHeld = true;
        _heldCredit = window;
    }

    /// <summary>
    /// Keeps <paramref name="bytes"/> of credit back while the acknowledgement is held; false when it is not, and the
    /// credit should go out now.
    /// </summary>
    public bool TryHoldCredit(long bytes)
    {
        if (!_ackHeld)
        {
            return false;
        }

        _heldCredit = (int)Math.Min(_heldCredit + bytes, int.MaxValue);
        return true;
    }

    /// <summary>
    /// The application's reader waits or ended while the acknowledgement is still held: the offer is to send it at once
    /// rather than let it ride. False when it is not held.
    /// </summary>
    public bool TryRequestAcknowledgementFlush()
    {
        if (!_ackHeld)
        {
            return false;
        }

        _ackFlushRequested = true;
        return true;
    }

    /// <summary>
    /// The acknowledgement was queued without waking the writer, to ride with the next record that goes out (this
    /// flow's first reply, most likely). A hint, read without the send lock by the flow's reader and the read loop,
    /// which then ask the connection whether it is still queued.
    /// </summary>
    public bool AcknowledgementRiding => Volatile.Read(ref _ackRiding);

    public void SetAcknowledgementRiding(bool riding) => Volatile.Write(ref _ackRiding, riding);

    /// <summary>
    /// Ends the hold: returns the acknowledgement's credit (the window the flow was opened with and what was released
    /// meanwhile), and whether the application asked for it to go at once.
    /// </summary>
    public long ReleaseAcknowledgement(out bool flushRequested)
    {
        _ackHeld = false;
        flushRequested = _ackFlushRequested;
        _ackFlushRequested = false;
        var held = _heldCredit;
        _heldCredit = 0;
        return held;
    }
}
