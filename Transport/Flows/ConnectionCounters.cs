using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// Live counters of one connection, read by tests (nothing left behind after close) and by metrics.
/// Updated with interlocked operations; a read is a consistent value of each counter, not of all at once.
/// </summary>
public sealed class ConnectionCounters : IBufferAccounting
{
    // Running totals of every connection of one manager, for its metrics: the monotonic counters go there too, so
    // the totals never drop when a connection closes and leaves the manager's cache.
    private readonly ConnectionCounters? _aggregate;
    private long _openFlows;
    private long _bufferedBytes;
    private long _reservedWindowBytes;
    private long _outstandingBuffers;
    private long _retainedBufferBytes;
    private long _queuedControlBytes;
    private long _runningLoops;
    private long _bytesSent;
    private long _bytesReceived;
    private long _recordsSent;
    private long _recordsReceived;
    private long _healthChecksSent;
    private long _flowsOpened;
    private long _flowsAccepted;
    private long _flowsRefused;

    public ConnectionCounters()
    {
    }

    internal ConnectionCounters(ConnectionCounters? aggregate)
    {
        _aggregate = aggregate;
    }

    /// <summary>Flows open on the connection, from either side.</summary>
    public long OpenFlows => Volatile.Read(ref _openFlows);

    /// <summary>Received payload bytes waiting for applications to read them.</summary>
    public long BufferedBytes => Volatile.Read(ref _bufferedBytes);

    /// <summary>Receive windows currently granted to the peer plus the shared credit: the buffering the connection promised to hold.</summary>
    public long ReservedWindowBytes => Volatile.Read(ref _reservedWindowBytes);

    /// <summary>Pooled record buffers not yet returned.</summary>
    public long OutstandingBuffers => Volatile.Read(ref _outstandingBuffers);

    /// <summary>
    /// Bytes of the pooled arrays behind <see cref="OutstandingBuffers"/>: the memory received data really holds, which a
    /// slice of a record keeps whole however small the slice is.
    /// </summary>
    public long RetainedBufferBytes => Volatile.Read(ref _retainedBufferBytes);

    /// <summary>
    /// Bytes of control messages (answers, refusals, credit) queued for the peer and not yet written, as counted against
    /// <see cref="Connections.ConnectionOptions.ControlBudget"/>.
    /// </summary>
    public long QueuedControlBytes => Volatile.Read(ref _queuedControlBytes);

    /// <summary>Reader and writer loops and the health timer, while they run.</summary>
    public long RunningLoops => Volatile.Read(ref _runningLoops);

    /// <summary>Flow payload bytes sent and received.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Encrypted records sent and received.</summary>
    public long RecordsSent => Volatile.Read(ref _recordsSent);

    /// <summary>Health checks and answers to the peer's queued to send: traffic of the connection's own, apart from flows'.</summary>
    public long HealthChecksSent => Volatile.Read(ref _healthChecksSent);

    public long RecordsReceived => Volatile.Read(ref _recordsReceived);

    /// <summary>Flows this side opened, flows it accepted, and inbound flows it refused (backlog, lame duck, limit).</summary>
    public long FlowsOpened => Volatile.Read(ref _flowsOpened);

    public long FlowsAccepted => Volatile.Read(ref _flowsAccepted);

    public long FlowsRefused => Volatile.Read(ref _flowsRefused);

    internal void FlowAdded(bool local)
    {
        Interlocked.Increment(ref _openFlows);
        Interlocked.Increment(ref local ? ref _flowsOpened : ref _flowsAccepted);
        if (_aggregate is not null)
        {
            Interlocked.Increment(ref local ? ref _aggregate._flowsOpened : ref _aggregate._flowsAccepted);
        }
    }

    internal void FlowRemoved() => Interlocked.Decrement(ref _openFlows);

    internal void FlowRefused()
    {
        Interlocked.Increment(ref _flowsRefused);
        _aggregate?.FlowRefused();
    }

    internal void Buffered(long delta) => Interlocked.Add(ref _bufferedBytes, delta);

    internal void Reserved(long delta) => Interlocked.Add(ref _reservedWindowBytes, delta);

    void IBufferAccounting.BufferRented(int bytes)
    {
        Interlocked.Increment(ref _outstandingBuffers);
        Interlocked.Add(ref _retainedBufferBytes, bytes);
    }

    void IBufferAccounting.BufferReturned(int bytes)
    {
        Interlocked.Decrement(ref _outstandingBuffers);
        Interlocked.Add(ref _retainedBufferBytes, -bytes);
    }

    internal void QueuedControl(long delta) => Interlocked.Add(ref _queuedControlBytes, delta);

    internal void LoopStarted() => Interlocked.Increment(ref _runningLoops);

    internal void LoopStopped() => Interlocked.Decrement(ref _runningLoops);

    internal void Sent(long bytes)
    {
        Interlocked.Add(ref _bytesSent, bytes);
        _aggregate?.Sent(bytes);
    }

    internal void Received(long bytes)
    {
        Interlocked.Add(ref _bytesReceived, bytes);
        _aggregate?.Received(bytes);
    }

    internal void HealthCheckSent() => Interlocked.Increment(ref _healthChecksSent);

    internal void RecordSent()
    {
        Interlocked.Increment(ref _recordsSent);
        _aggregate?.RecordSent();
    }

    internal void RecordReceived()
    {
        Interlocked.Increment(ref _recordsReceived);
        _aggregate?.RecordReceived();
    }
}
