using System.Net;
using System.Runtime.InteropServices;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;
using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// One flow of a connection, which it reaches through <see cref="IFlowConnection"/>. The receive half lives here,
/// guarded by <see cref="ReceiveLock"/>: a queue of record slices filled by the connection's read loop and drained by
/// the application, and the <see cref="ReceiveWindow"/> that returns credit to the peer as it reads. The send half is
/// <see cref="Send"/>: a single pending write that the connection's writer copies into records as credit allows,
/// guarded by the connection's send lock.
/// </summary>
/// <remarks>
/// Lock order: <see cref="ReceiveLock"/> and the connection's send lock are never held together, and no code holds
/// two flows' receive locks at once (flows share them). What the send side
/// needs of the receive side it reads through volatile fields (<see cref="RemoteClosed"/>), and the receive budget
/// the window reserves from is lock-free.
/// </remarks>
internal sealed partial class Flow : IFlow
{
    private readonly IFlowConnection _connection;
    private readonly AsyncSignal _readSignal = new();
    private ReceiveWindow _window;
    private FlowSendState _send;
    // Made on first use of Closed: most flows are never watched, and a completion source is a fair share of an idle
    // flow's memory. _isClosed and _closed are each published with a full fence before the other is read, so either
    // MarkClosed sees the source or its creator sees the flag.
    private TaskCompletionSource? _closed;
    private byte _isClosed; // bytes, not ints: every flow carries them
    // Taken from the shared pool when bytes arrive and given back as soon as they are all read: an idle flow holds none.
    private SegmentQueue? _segments;
    private int _buffered;
    private bool _remoteClosed;
    private bool _peerAborted;
    private bool _readPending;
    private bool _readCancelled;
    private FlowException? _receiveError;
    private byte _disposed;
    private ITimer? _deadline;
    private FlowStream? _stream;

    /// <summary>
    /// Guards the receive half: one of its connection's receive locks, shared by flows far apart in ID
    /// (<see cref="IFlowConnection.ReceiveLockFor"/>), not a lock object of its own, since an idle flow's memory counts.
    /// Not the read signal's monitor either: the lock word would share a cache line with the signal's state, which the
    /// read loop and the reader change on every record.
    /// </summary>
    private Lock ReceiveLock => _connection.ReceiveLockFor(Id);

    internal Flow(IFlowConnection connection, ulong id, bool isLocal, int receiveWindow, long sendCredit)
    {
        _connection = connection;
        Id = id;
        IsLocal = isLocal;
        _window = new ReceiveWindow(receiveWindow, connection.TimeProvider.GetTimestamp());
        _send = new FlowSendState(isLocal, sendCredit);
    }

    public ulong Id { get; }

    internal bool IsLocal { get; }

    /// <summary>Side channels do not count as use of their connection.</summary>
    internal bool IsSideChannel { get; init; }

    /// <summary>The channel timeout its opener asked for (not positive: none): while the flow is open, the connection's is at most this.</summary>
    internal TimeSpan ChannelTimeout { get; init; }

    /// <summary>Current receive window: the auto-tuned window held to the connection's <see cref="IFlowConnection.WindowLimit"/>.</summary>
    internal int ReceiveWindow => _window.Size;

    /// <summary>Whether the application is waiting in a read; read without the lock, so only a hint.</summary>
    internal bool ReaderWaiting => Volatile.Read(ref _readPending);

    /// <summary>The send half, in place; every member but its wait is used under the connection's send lock.</summary>
    internal ref FlowSendState Send => ref _send;

    // What this flow received lately, for its connection's ReceivingFlows; touched only by the read loop.
    internal ReceiveActivity ReceiveActivity = new();

    public Endpoint LocalEndpoint => _connection.LocalEndpoint;

    public Endpoint RemoteEndpoint => _connection.RemoteEndpoint;

    public EndPoint? RemoteAddress => _connection.RemoteAddress;

    public Blessings LocalBlessings => _connection.LocalBlessings;

    public Blessings RemoteBlessings => _connection.RemoteBlessings;

    public Discharges LocalDischarges => _connection.LocalDischarges;

    public Discharges RemoteDischarges => _connection.RemoteDischarges;

    public IManagedConnection Connection => _connection;

    public Task Closed
    {
        get
        {
            var closed = Volatile.Read(ref _closed);
            if (closed is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                closed = Interlocked.CompareExchange(ref _closed, created, null) ?? created;
                if (Volatile.Read(ref _isClosed) != 0)
                {
                    closed.TrySetResult();
                }
            }

            return closed.Task;
        }
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Whether the flow holds a receive queue (it has unread bytes, or had until the last read): tests look.</summary>
    internal bool HoldsReceiveQueue
    {
        get
        {
            lock (ReceiveLock)
            {
                return _segments is not null;
            }
        }
    }

    /// <summary>The peer closed its side. Read under the connection's send lock, so a volatile read (see the lock order above).</summary>
    internal bool RemoteClosed => Volatile.Read(ref _remoteClosed);

    // ---- Reading ----

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int read;
            lock (ReceiveLock)
            {
                if (!TryTakeLocked(buffer.Span, out read))
                {
                    BeginWaitLocked(cancellationToken);
                    read = -1;
                }
            }

            if (read > 0)
            {
                AfterRead(read);
                return read;
            }

            if (read == 0)
            {
                if (buffer.Length > 0)
                {
                    _connection.FlushAcknowledgement(this); // the end: nothing to reply with may follow
                }

                return 0;
            }

            _connection.FlushAcknowledgement(this);
            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        // An empty buffer fits no message (none is empty: empty payloads are never queued), so each comes in its own array.
        var message = await ReadMessageAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        return message is { } m && MemoryMarshal.TryGetArray<byte>(m, out var array) ? array.Array : null;
    }

    public async ValueTask<Memory<byte>?> ReadMessageAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Memory<byte> message = default;
            var ended = false;
            lock (ReceiveLock)
            {
                if (_segments is { Count: > 0 })
                {
                    message = _segments.TakeMessage(buffer);
                    ReturnSegmentsIfDrainedLocked();
                    _buffered -= message.Length;
                    _connection.Counters.Buffered(-message.Length);
                }
                else if (TryTakeLocked(Span<byte>.Empty, out _))
                {
                    ended = true;
                }
                else
                {
                    BeginWaitLocked(cancellationToken);
                }
            }

            if (message.Length > 0)
            {
                AfterRead(message.Length);
                return message;
            }

            if (ended)
            {
                _connection.FlushAcknowledgement(this);
                return null;
            }

            _connection.FlushAcknowledgement(this);
            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Copies buffered bytes out; false when the caller must wait. Throws on a receive error, true+0 at end.</summary>
    private bool TryTakeLocked(Span<byte> destination, out int read)
    {
        read = 0;
        if (_segments is { Count: > 0 } && destination.Length > 0)
        {
            read = _segments.Take(destination);
            ReturnSegmentsIfDrainedLocked();
            _buffered -= read;
            _connection.Counters.Buffered(-read);
            return true;
        }

        if (_segments is { Count: > 0 })
        {
            return true; // zero-length destination: nothing to copy, but not end of stream either
        }

        if (_receiveError is not null)
        {
            throw new FlowException(_receiveError.Code, _receiveError.Message, _receiveError);
        }

        return _remoteClosed;
    }

    private void BeginWaitLocked(CancellationToken cancellationToken)
    {
        if (_readPending)
        {
            throw new FlowException(FlowErrorCode.BadState, "Another read is already pending on this flow.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        _readPending = true;
        _window.OnReaderWaiting();
        _readCancelled = false;
    }

    private async ValueTask WaitForDataAsync(CancellationToken cancellationToken)
    {
        await using (cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((Flow)s!).CancelRead(), this)
            : default)
        {
            await _readSignal.WaitAsync().ConfigureAwait(false);
        }

        lock (ReceiveLock)
        {
            _readPending = false;
            if (_readCancelled)
            {
                _readCancelled = false;
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    private void CancelRead()
    {
        lock (ReceiveLock)
        {
            if (!_readPending)
            {
                return;
            }

            _readCancelled = true;
        }

        _readSignal.Set();
    }

    /// <summary>Returns credit for bytes the application consumed (<see cref="ReceiveWindow"/> decides how much, and when).</summary>
    private void AfterRead(int read)
    {
        if (read == 0)
        {
            return;
        }

        if (!IsSideChannel)
        {
            _connection.Touch();
        }

        long release = 0;
        var wakeWriter = false;
        long settled = 0;
        lock (ReceiveLock)
        {
            if (_remoteClosed || _receiveError is not null)
            {
                // The peer sends nothing more: give the budget back instead of granting credit.
                _window.ReturnReservation(_window.Reservation - _buffered, _connection);
                if (_buffered == 0)
                {
                    settled = SettleLocked();
                }
            }
            else
            {
                release = _window.OnConsumed(read, _connection, out wakeWriter);
            }
        }

        if (settled > 0)
        {
            _connection.SettleDebt(this, settled);
        }

        if (release > 0)
        {
            _connection.QueueRelease(this, release, wakeWriter);
            _connection.RefreshRttIfStale();
        }
    }

    /// <summary>
    /// The peer's bytes are all read or dropped: settles its debt on the shared credit (see <see cref="ReceiveWindow"/>).
    /// Returns the debt to release to the peer when it finished sending, which it learns of only from a release; zero
    /// otherwise, since this side then resets the flow, and a reset writes the peer's debt off on its side.
    /// </summary>
    private long SettleLocked()
    {
        var debt = _window.SettleDebt(_connection);
        return _remoteClosed || _peerAborted ? debt : 0;
    }

    // ---- Called by the connection's read loop ----

    /// <summary>
    /// Queues a payload slice (or a copy of it, see <see cref="SegmentQueue"/>); false if the peer sent beyond the
    /// credit it was given and the shared credit could not cover it (a protocol violation).
    /// </summary>
    internal bool Deliver(RecordBuffer buffer, int offset, int length, bool close)
    {
        long settled = 0;
        lock (ReceiveLock)
        {
            if (_remoteClosed || !_window.TryReceive(length, _connection))
            {
                return false;
            }

            if (_receiveError is null && !IsDisposed)
            {
                if (length > 0)
                {
                    (_segments ??= SegmentQueue.Rent()).Enqueue(buffer, offset, length, _connection.Counters);
                    _buffered += length;
                    _connection.Counters.Buffered(length);
                }
            }
            else
            {
                // Dropped: this side reset (or is resetting) the flow, and a reset writes the peer's debt off on its side.
                _window.SettleDebt(_connection);
            }

            _remoteClosed |= close;
            if (close)
            {
                // The peer sends nothing more: the window need only hold what is still buffered.
                _window.ReturnReservation(_window.Reservation - _buffered, _connection);
                if (_buffered == 0)
                {
                    settled = SettleLocked();
                }
            }
        }

        if (settled > 0)
        {
            _connection.SettleDebt(this, settled);
        }

        _readSignal.Set();
        return true;
    }

    /// <summary>
    /// Stops the receive half with an error: buffered data stays readable when <paramref name="keepBuffered"/>, which is
    /// how the peer's reset of the flow arrives (it sends nothing more); otherwise this side stops the flow.
    /// </summary>
    internal void FailReceive(FlowException error, bool keepBuffered)
    {
        long settled = 0;
        lock (ReceiveLock)
        {
            if (!_remoteClosed)
            {
                _receiveError ??= error;
            }

            if (keepBuffered)
            {
                _peerAborted = true;
            }
            else
            {
                _receiveError ??= error;
                DropBufferedLocked();
            }

            _window.ReturnReservation(_window.Reservation - _buffered, _connection);
            if (_buffered == 0)
            {
                settled = SettleLocked();
            }
        }

        if (settled > 0)
        {
            _connection.SettleDebt(this, settled);
        }

        _readSignal.Set();
    }

    /// <summary>Gives the segment queue back once it holds nothing.</summary>
    private void ReturnSegmentsIfDrainedLocked()
    {
        if (_segments is { Count: 0 } drained)
        {
            _segments = null;
            SegmentQueue.Return(drained);
        }
    }

    private void DropBufferedLocked()
    {
        _segments?.Clear();
        ReturnSegmentsIfDrainedLocked();
        _connection.Counters.Buffered(-_buffered);
        _buffered = 0;
    }

    public void DisableFragmentation() => _connection.DisableFragmentation(this);

    public void SetDeadline(DateTimeOffset deadline)
    {
        var due = deadline - _connection.TimeProvider.GetUtcNow();
        var timer = _connection.TimeProvider.CreateTimer(
            static s => ((Flow)s!).Abort(new FlowException(FlowErrorCode.Aborted, "The flow's deadline passed.")),
            this,
            due < TimeSpan.Zero ? TimeSpan.Zero : due,
            Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _deadline, timer)?.Dispose();
        if (Volatile.Read(ref _isClosed) != 0)
        {
            timer.Dispose();
        }
    }

    public Stream AsStream() => _stream ??= new FlowStream(this);

    /// <summary>
    /// The application took the flow from the accept backlog: if its acknowledgement still waits to ride with a reply,
    /// it goes out once the application has run up to its first wait (a work item queued behind it on this thread),
    /// by then with the reply or, if there is none, alone.
    /// </summary>
    internal void FlushRidingAcknowledgement()
    {
        if (Send.AcknowledgementRiding)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static flow => flow._connection.FlushAcknowledgement(flow), this, preferLocal: true);
        }
    }

    /// <summary>Aborts both halves at once (deadline, connection close, peer reset handled by the connection).</summary>
    internal void Abort(FlowException error) => _connection.AbortFlow(this, error);

    /// <summary>Called by the connection when the flow left its table: both halves are done, or it was aborted.</summary>
    internal void MarkClosed()
    {
        Interlocked.Exchange(ref _deadline, null)?.Dispose();
        Interlocked.Exchange(ref _isClosed, (byte)1);
        Volatile.Read(ref _closed)?.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, (byte)1) != 0)
        {
            return;
        }

        // The close and the CloseFlow that disposal sends if the peer has not finished leave in one record. A flow the
        // peer already closed has nothing to deliver: skip the write rather than throw and catch (the common case when
        // the peer disposes first, and an exception costs more than the rest of the flow's life).
        if (_connection.PrepareDispose(this))
        {
            try
            {
                await CloseWriteAsync().ConfigureAwait(false);
            }
            catch (FlowException)
            {
                // Aborted meanwhile: nothing more to deliver.
            }
        }

        bool peerFinished;
        long settled;
        lock (ReceiveLock)
        {
            // Decided once, here: a peer that has not finished sending is told to stop with a reset, which also settles
            // its debt; one that has finished learns of the settlement from a release.
            peerFinished = _remoteClosed || _peerAborted;
            DropBufferedLocked();
            _window.ReturnReservation(_window.Reservation, _connection);
            settled = SettleLocked();
            _receiveError ??= new FlowException(FlowErrorCode.Aborted, "The flow was disposed.");
        }

        _connection.OnFlowDisposed(this, peerFinished, settled);
        _readSignal.Set();
    }
}
