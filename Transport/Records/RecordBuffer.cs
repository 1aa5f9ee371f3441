namespace FlowOrleans.Transport.Records;

/// <summary>
/// A pooled block holding one decrypted record. Flows keep slices of it in their receive queues instead of copying
/// payloads out, so it is reference counted: the read loop holds one reference while parsing, each queued slice one
/// more, and the block goes back to the pool when the last slice is read or dropped.
/// </summary>
internal sealed class RecordBuffer
{
    private readonly IBufferAccounting _counters;
    private byte[] _array;
    private int _references;

    private RecordBuffer(IBufferAccounting counters, int size)
    {
        _counters = counters;
        _array = RecordPool.Rent(size);
        _references = 1;
        counters.BufferRented();
    }

    public static RecordBuffer Rent(IBufferAccounting counters, int size) => new(counters, size);

    public byte[] Array => _array;

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            var array = Interlocked.Exchange(ref _array, []);
            RecordPool.Return(array);
            _counters.BufferReturned();
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("RecordBuffer released more often than referenced.");
        }
    }
}

/// <summary>A slice of a <see cref="RecordBuffer"/> waiting in a flow's receive queue.</summary>
internal struct ReceiveSegment(RecordBuffer buffer, int offset, int length)
{
    public readonly RecordBuffer Buffer = buffer;
    public int Offset = offset;
    public int Length = length;

    public readonly ReadOnlySpan<byte> Span => Buffer.Array.AsSpan(Offset, Length);
}
