using System.Buffers;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// One flow of a <see cref="ManagedConnection"/>. The receive half lives here, guarded by <see cref="_receiveLock"/>:
/// a queue of record slices filled by the connection's read loop and drained by the application, which returns
/// credit to the peer as it reads. The send half is a single pending write that the connection's writer loop copies
/// into records as credit allows; its fields are guarded by the connection's send lock.
/// </summary>
internal sealed class Flow : IFlow
{
    private readonly ManagedConnection _connection;
    private readonly Lock _receiveLock = new();
    private readonly AsyncSignal _readSignal = new();
    private readonly AsyncSignal _writeSignal = new();
    // Made on first use of Closed: most flows are never watched, and a completion source is a fair share of an idle
    // flow's memory. _isClosed and _closed are each published with a full fence before the other is read, so either
    // MarkClosed sees the source or its creator sees the flag.
    private TaskCompletionSource? _closed;
    private int _isClosed;
    private SegmentQueue? _segments;
    private int _buffered;
    private bool _remoteClosed;
    private bool _readPending;
    private bool _readCancelled;
    private FlowException? _receiveError;
    private long _receivedTotal;
    private long _grantedTotal;
    private long _toRelease;
    private long _releasedUnsignalled;
    private long _epochStart;
    private bool _starved;
    private long _epochBytes;
    private int _tunedWindow;
    private int _disposed;
    private ITimer? _deadline;
    private FlowStream? _stream;

    internal Flow(ManagedConnection connection, ulong id, bool isLocal, int receiveWindow, long sendCredit)
    {
        _connection = connection;
        Id = id;
        IsLocal = isLocal;
        ReceiveWindow = receiveWindow;
        _tunedWindow = receiveWindow;
        Reservation = receiveWindow;
        _grantedTotal = receiveWindow;
        SendCredit = sendCredit;
        Acked = !isLocal;
        OpenPending = isLocal;
        _epochStart = connection.TimeProvider.GetTimestamp();
    }

    public ulong Id { get; }

    internal bool IsLocal { get; }

    /// <summary>Side channels do not count as use of their connection.</summary>
    internal bool IsSideChannel { get; init; }

    /// <summary>Current receive window: the auto-tuned window held to the connection's <see cref="ManagedConnection.WindowLimit"/>.</summary>
    internal int ReceiveWindow { get; private set; }

    /// <summary>Whether the application is waiting in a read; read without the lock, so only a hint.</summary>
    internal bool ReaderWaiting => Volatile.Read(ref _readPending);

    /// <summary>Bytes of the connection's receive budget this flow holds.</summary>
    internal long Reservation { get; private set; }

    // ---- Send half: guarded by the connection's send lock. ----
    internal long SendCredit;
    internal bool Acked;
    internal long SentUnacked;
    internal bool OpenPending;
    internal ReadOnlyMemory<byte> PendingData;
    internal bool WritePending;
    internal bool CloseRequested;
    internal bool CloseSent;
    internal bool InReadyQueue;
    internal bool Unfragmented;
    internal bool SendDone;
    internal FlowException? SendError;
    internal bool WriteCancelled;
    internal bool AckHeld;
    internal long HeldCredit;

    // Set when the application disposes the flow: the writer follows the Close flag with CloseFlow in the same record.
    internal bool ResetOnClose;
    internal bool ResetSent;

    // What this flow received lately, for its connection's ReceivingFlows; touched only by the read loop.
    internal ReceiveActivity ReceiveActivity = new();

    public Endpoint LocalEndpoint => _connection.LocalEndpoint;

    public Endpoint RemoteEndpoint => _connection.RemoteEndpoint;

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

    /// <summary>
    /// Read under the connection's send lock, which must never wait for <see cref="_receiveLock"/> (the receive side
    /// takes the send lock to return credit): so a volatile read, not a locked one.
    /// </summary>
    internal bool RemoteClosed => Volatile.Read(ref _remoteClosed);

    // ---- Reading ----

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int read;
            lock (_receiveLock)
            {
                if (!TryTakeLocked(buffer.Span, out read))
                {
                    BeginWaitLocked(cancellationToken);
                    read = -1;
                }
            }

            if (read >= 0)
            {
                AfterRead(read);
                return read;
            }

            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            byte[]? message = null;
            var ended = false;
            lock (_receiveLock)
            {
                if (_segments is { Count: > 0 })
                {
                    var segment = _segments.Dequeue();
                    message = segment.Span.ToArray();
                    segment.Buffer.Release();
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

            if (message is not null)
            {
                AfterRead(message.Length);
                return message;
            }

            if (ended)
            {
                return null;
            }

            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Copies buffered bytes out; false when the caller must wait. Throws on a receive error, true+0 at end.</summary>
    private bool TryTakeLocked(Span<byte> destination, out int read)
    {
        read = 0;
        if (_segments is { Count: > 0 } && destination.Length > 0)
        {
            while (read < destination.Length && _segments.Count > 0)
            {
                ref var head = ref _segments.Head;
                var n = Math.Min(head.Length, destination.Length - read);
                head.Span[..n].CopyTo(destination[read..]);
                read += n;
                head.Offset += n;
                head.Length -= n;
                if (head.Length == 0)
                {
                    _segments.Dequeue().Buffer.Release();
                }
            }

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
        _starved = true;
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

        lock (_receiveLock)
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
        lock (_receiveLock)
        {
            if (!_readPending)
            {
                return;
            }

            _readCancelled = true;
        }

        _readSignal.Set();
    }

    /// <summary>Returns credit for bytes the application consumed, growing the window when it is the bottleneck.</summary>
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
        lock (_receiveLock)
        {
            if (_remoteClosed || _receiveError is not null)
            {
                // The peer sends nothing more: give the budget back instead of granting credit.
                ReturnReservationLocked(Math.Min(read, Reservation - _buffered));
                return;
            }

            _toRelease += read;
            if (_toRelease >= ReceiveWindow / 4)
            {
                var consumed = _toRelease;
                _toRelease = 0;
                release = consumed + AdjustWindowLocked(consumed);
                _grantedTotal += release;

                // Credit is returned every quarter window but the writer is woken for it only every half window; in
                // between it rides with whatever record goes out next. With many flows that turns a tiny record (a
                // wake-up, a seal, a send and a read on the peer) per flow per quarter window into one record
                // carrying many flows' credit. It cannot stall the sender: while it waits with no credit and this
                // side has read everything, the credit not yet on its way is at least three quarters of the window,
                // so the writer was woken.
                _releasedUnsignalled += release;
                if (_releasedUnsignalled >= ReceiveWindow / 2)
                {
                    _releasedUnsignalled = 0;
                    wakeWriter = true;
                }
            }
        }

        if (release > 0)
        {
            _connection.QueueRelease(this, release, wakeWriter);
            _connection.RefreshRttIfStale();
        }
    }

    /// <summary>
    /// Called with each release of <paramref name="consumed"/> bytes: how much to add to it (negative: to keep back).
    /// Auto-tuning sets the window throughput asks for (<see cref="_tunedWindow"/>); the window the peer gets is that,
    /// held to the connection's <see cref="ManagedConnection.WindowLimit"/> (the window beside message traffic), and
    /// back up to it once the limit lifts. Shrinking keeps back part of the release: credit the peer already holds is
    /// never taken back.
    /// </summary>
    private long AdjustWindowLocked(long consumed)
    {
        TuneLocked(consumed);
        var target = Math.Min(_tunedWindow, _connection.WindowLimit);
        if (target < ReceiveWindow)
        {
            var shrink = (int)Math.Min(ReceiveWindow - target, consumed);
            ReceiveWindow -= shrink;
            ReturnReservationLocked(shrink);
            return -shrink;
        }

        var growth = target - ReceiveWindow;
        if (growth == 0 || !_connection.TryReserve(growth))
        {
            return 0;
        }

        ReceiveWindow += growth;
        Reservation += growth;
        return growth;
    }

    /// <summary>Doubles <see cref="_tunedWindow"/> after a whole window went by that was too small for the link (<see cref="WindowTuning"/>).</summary>
    private void TuneLocked(long consumed)
    {
        _epochBytes += consumed;
        if (_epochBytes < ReceiveWindow)
        {
            return;
        }

        var now = _connection.TimeProvider.GetTimestamp();
        var elapsed = _connection.TimeProvider.GetElapsedTime(_epochStart, now);
        var starved = _starved;
        _epochStart = now;
        _epochBytes = 0;
        _starved = false;

        // Only a window that was not held down says anything about the link.
        if (ReceiveWindow == _tunedWindow && WindowTuning.ShouldGrow(elapsed, _connection.MinRtt, starved))
        {
            _tunedWindow = Math.Min(_tunedWindow * 2, _connection.Options.MaxFlowWindow);
        }
    }

    private void ReturnReservationLocked(long bytes)
    {
        if (bytes > 0)
        {
            Reservation -= bytes;
            _connection.Unreserve(bytes);
        }
    }

    // ---- Called by the connection's read loop ----

    /// <summary>Queues a payload slice; false if the peer sent beyond the credit it was given (a protocol violation).</summary>
    internal bool Deliver(RecordBuffer buffer, int offset, int length, bool close, long allowance)
    {
        lock (_receiveLock)
        {
            if (_remoteClosed)
            {
                return false;
            }

            _receivedTotal += length;
            if (_receivedTotal > _grantedTotal + allowance)
            {
                return false;
            }

            if (length > 0 && _receiveError is null && !IsDisposed)
            {
                buffer.AddReference();
                (_segments ??= new SegmentQueue()).Enqueue(new ReceiveSegment(buffer, offset, length));
                _buffered += length;
                _connection.Counters.Buffered(length);
            }

            _remoteClosed |= close;
            if (close && _buffered == 0)
            {
                ReturnReservationLocked(Reservation);
            }
        }

        _readSignal.Set();
        return true;
    }

    /// <summary>Stops the receive half with an error: buffered data stays readable when <paramref name="keepBuffered"/>.</summary>
    internal void FailReceive(FlowException error, bool keepBuffered)
    {
        lock (_receiveLock)
        {
            if (!_remoteClosed)
            {
                _receiveError ??= error;
            }

            if (!keepBuffered)
            {
                _receiveError ??= error;
                DropBufferedLocked();
            }

            if (_buffered == 0)
            {
                ReturnReservationLocked(Reservation);
            }
        }

        _readSignal.Set();
    }

    private void DropBufferedLocked()
    {
        if (_segments is not null)
        {
            while (_segments.Count > 0)
            {
                _segments.Dequeue().Buffer.Release();
            }
        }

        _connection.Counters.Buffered(-_buffered);
        _buffered = 0;
    }

    // ---- Writing ----

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => data.IsEmpty ? ValueTask.CompletedTask : WriteCoreAsync(data, close: false, cancellationToken);

    public ValueTask WriteMessageAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        => WriteMessageCoreAsync(buffers, close: false, cancellationToken);

    public ValueTask WriteMessageAndCloseAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        => WriteMessageCoreAsync(buffers, close: true, cancellationToken);

    public ValueTask CloseWriteAsync(CancellationToken cancellationToken = default)
        => WriteCoreAsync(ReadOnlyMemory<byte>.Empty, close: true, cancellationToken);

    private async ValueTask WriteMessageCoreAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, bool close, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        if (buffers.Count == 1)
        {
            await WriteCoreAsync(buffers[0], close, cancellationToken).ConfigureAwait(false);
            return;
        }

        long total = 0;
        foreach (var b in buffers)
        {
            total += b.Length;
        }

        if (total > RecordLayout.MaxPayload * 1024L)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"A message of {total} bytes is too large; write it as a stream.");
        }

        // One message must reach the writer as one run of bytes, so gather the parts into one pooled block.
        var gathered = ArrayPool<byte>.Shared.Rent((int)Math.Max(total, 1));
        try
        {
            var offset = 0;
            foreach (var b in buffers)
            {
                b.Span.CopyTo(gathered.AsSpan(offset));
                offset += b.Length;
            }

            await WriteCoreAsync(gathered.AsMemory(0, offset), close, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    private async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> data, bool close, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_connection.BeginWrite(this, data, close))
        {
            return;
        }

        await _connection.KickWriterAsync().ConfigureAwait(false);

        await using (cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((Flow)s!)._connection.CancelWrite((Flow)s!), this)
            : default)
        {
            await _writeSignal.WaitAsync().ConfigureAwait(false);
        }

        _connection.EndWrite(this, cancellationToken);
    }

    /// <summary>Wakes the application's pending write; called by the connection once it finished or failed.</summary>
    internal void SignalWriteDone() => _writeSignal.Set();

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

    /// <summary>Aborts both halves at once (deadline, connection close, peer reset handled by the connection).</summary>
    internal void Abort(FlowException error) => _connection.AbortFlow(this, error);

    /// <summary>Called by the connection when the flow left its table: both halves are done, or it was aborted.</summary>
    internal void MarkClosed()
    {
        Interlocked.Exchange(ref _deadline, null)?.Dispose();
        Interlocked.Exchange(ref _isClosed, 1);
        Volatile.Read(ref _closed)?.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
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

        lock (_receiveLock)
        {
            DropBufferedLocked();
            ReturnReservationLocked(Reservation);
            _receiveError ??= new FlowException(FlowErrorCode.Aborted, "The flow was disposed.");
        }

        _connection.OnFlowDisposed(this);
        _readSignal.Set();
    }
}
