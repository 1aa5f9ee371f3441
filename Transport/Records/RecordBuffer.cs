namespace FlowOrleans.Transport.Records;

/// <summary>
/// A pooled block holding received bytes: one decrypted record, or bytes a flow copied out of records. Flows keep
/// slices of records in their receive queues instead of copying payloads out, so it is reference counted: the read
/// loop holds one reference while parsing, each queued slice one more, and the block goes back to the pool when the
/// last slice is read or dropped.
/// </summary>
internal sealed class RecordBuffer
{
    private readonly IBufferAccounting _counters;
    private byte[] _array;
    private int _references;

    private RecordBuffer(IBufferAccounting counters, int size, bool packed)
    {
        _counters = counters;
        _array = RecordPool.Rent(size);
        _references = 1;
        IsPacked = packed;
        counters.BufferRented(_array.Length);
    }

    /// <summary>A block of at least <paramref name="size"/> bytes for a record, or for a copy of one payload.</summary>
    public static RecordBuffer Rent(IBufferAccounting counters, int size) => new(counters, size, packed: false);

    /// <summary>
    /// A block one flow packs its small payloads into, back to back, each led by its length (see
    /// <see cref="Flows.SegmentQueue"/>), so that a run of tiny messages costs about its own bytes.
    /// </summary>
    public static RecordBuffer RentPacked(IBufferAccounting counters, int size) => new(counters, size, packed: true);

    public byte[] Array => _array;

    /// <summary>Holds length-prefixed payloads (<see cref="RentPacked"/>) rather than raw bytes.</summary>
    public bool IsPacked { get; }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            var array = Interlocked.Exchange(ref _array, []);
            _counters.BufferReturned(array.Length);
            RecordPool.Return(array);
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("A record buffer was released more often than referenced.");
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
