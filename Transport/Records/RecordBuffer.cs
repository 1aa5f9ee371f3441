namespace FlowOrleans.Transport.Records;

/// <summary>
/// A pooled block holding received bytes: one decrypted record, or bytes a flow copied out of records (see
/// <see cref="RecordBufferKind"/>). Flows keep slices of records in their receive queues instead of copying payloads
/// out, so it is reference counted: the read loop holds one reference while parsing, each queued slice one more, and
/// the block goes back to the pool when the last slice is read or dropped.
/// </summary>
internal sealed class RecordBuffer
{
    private readonly IBufferAccounting _counters;
    private byte[] _array;
    private int _references;

    private RecordBuffer(IBufferAccounting counters, int size, RecordBufferKind kind)
    {
        _counters = counters;
        _array = RecordPool.Rent(size);
        _references = 1;
        Kind = kind;
        counters.BufferRented(_array.Length);
    }

    public static RecordBuffer Rent(IBufferAccounting counters, int size, RecordBufferKind kind = RecordBufferKind.Record) =>
        new(counters, size, kind);

    public byte[] Array => _array;

    public RecordBufferKind Kind { get; }

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
            throw new InvalidOperationException("RecordBuffer released more often than referenced.");
        }
    }
}

/// <summary>What a <see cref="RecordBuffer"/> holds, which decides how a flow reads it.</summary>
internal enum RecordBufferKind : byte
{
    /// <summary>A decrypted record, shared by the slices of every flow it carried data for.</summary>
    Record,

    /// <summary>One flow's copy of one payload: a slice that would have kept a much larger record alive.</summary>
    Copy,

    /// <summary>
    /// One flow's small payloads packed back to back, each led by its length as a varint, so a run of tiny messages
    /// costs about its own bytes rather than a record, a queue entry and a buffer each.
    /// </summary>
    Packed,
}

/// <summary>A slice of a <see cref="RecordBuffer"/> waiting in a flow's receive queue.</summary>
internal struct ReceiveSegment(RecordBuffer buffer, int offset, int length)
{
    public readonly RecordBuffer Buffer = buffer;
    public int Offset = offset;
    public int Length = length;

    public readonly ReadOnlySpan<byte> Span => Buffer.Array.AsSpan(Offset, Length);
}
