using System.Runtime.InteropServices;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// A flow's received bytes, in order: a growable ring of slices whose head can be consumed in place (a partial read
/// shortens it), which <see cref="Queue{T}"/> cannot do. Starts small: an idle flow should cost little memory.
/// </summary>
/// <remarks>
/// What the queue keeps alive is bounded by what it holds (docs/security.md, "Transport: memory budgets"): every
/// block in it but the last holds payload (with the lengths of packed payloads) of at least half its array (49 % for a
/// full-size record, and a block copied down to a few bytes takes the pool's smallest array, 16 bytes); the last, and
/// a spare packed block kept for reuse while more is queued, at most <see cref="PackedBlock"/> bytes each beyond that:
/// about 2.1 times what it holds in all, plus 4 KiB. A slice of at least half its
/// record's array stays in place: bulk data, where a record is one flow's chunk, and a lone message (the reader is most
/// likely waiting for it) are never copied. A smaller slice would keep a whole record alive for a few bytes of it, so
/// it is copied: a payload of <see cref="PackLimit"/> bytes or more into a block its size, a smaller one packed behind
/// the flow's previous small payloads, each led by its length so that message boundaries survive. A packed block that
/// is less than half full when something else is queued behind it is copied down to its content.
/// </remarks>
internal sealed class SegmentQueue
{
    /// <summary>Payloads smaller than this are packed: a queue entry and a block each would cost more than their bytes.</summary>
    public const int PackLimit = 1024;

    /// <summary>
    /// A packed block within a run of small payloads (the last block is a full packed one): room for at least one packed
    /// payload of every size, and the most a queue's last block holds beyond twice its bytes.
    /// </summary>
    public const int PackedBlock = 2048;

    // A new packed block after anything else: a message or a request, most likely read before the next arrives.
    private const int SmallPackedBlock = 256;

    // Drained queues waiting for their next flow: a flow holds a queue only while it has unread bytes, so idle flows
    // cost none, and one that keeps receiving small messages rents and returns one without allocating.
    private const int PoolSlots = 32;
    private static readonly SegmentQueue?[] s_pool = new SegmentQueue?[PoolSlots];

    private ReceiveSegment[] _items = new ReceiveSegment[InitialItems];
    private int _head;
    private int _count;
    private RecordBuffer? _spare;

    private const int InitialItems = 2;
    private const int MaxPooledItems = 64;

    public int Count => _count;

    /// <summary>An empty queue, from the pool when it has one.</summary>
    public static SegmentQueue Rent()
    {
        // Start at a slot that depends on the thread, so that concurrent renters rarely contend for the same one.
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < PoolSlots; i++)
        {
            ref var slot = ref s_pool[(start + i) % PoolSlots];
            if (Volatile.Read(ref slot) is not null && Interlocked.Exchange(ref slot, null) is { } queue)
            {
                return queue;
            }
        }

        return new SegmentQueue();
    }

    /// <summary>Gives back an empty queue; one that grew large (a reader far behind) is left to the collector.</summary>
    public static void Return(SegmentQueue queue)
    {
        if (queue._count != 0 || queue._spare is not null || queue._items.Length > MaxPooledItems)
        {
            return;
        }

        queue._head = 0;
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < PoolSlots; i++)
        {
            ref var slot = ref s_pool[(start + i) % PoolSlots];
            if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, queue, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="record"/>: the slice itself
    /// (taking a reference), or a copy when the slice is small beside its record.
    /// </summary>
    public void Enqueue(RecordBuffer record, int offset, int length, IBufferAccounting counters)
    {
        var keepsHalf = 2L * length >= record.Array.Length || length > RecordPool.SmallRecord;
        var payload = record.Array.AsSpan(offset, length);
        if (length < PackLimit && !(keepsHalf && _count == 0))
        {
            Pack(payload, counters);
            return;
        }

        CompactTail(counters);
        if (keepsHalf)
        {
            record.AddReference();
            Add(new ReceiveSegment(record, offset, length));
            return;
        }

        var copy = RecordBuffer.Rent(counters, length);
        payload.CopyTo(copy.Array);
        Add(new ReceiveSegment(copy, 0, length));
    }

    /// <summary>Copies payload bytes into <paramref name="destination"/> from the head on; returns how many.</summary>
    public int Take(Span<byte> destination)
    {
        var read = 0;
        while (read < destination.Length && _count > 0)
        {
            ref var head = ref _items[_head];
            if (!head.Buffer.IsPacked)
            {
                var n = Math.Min(head.Length, destination.Length - read);
                head.Span[..n].CopyTo(destination[read..]);
                read += n;
                head.Offset += n;
                head.Length -= n;
            }
            else
            {
                read += TakePacked(ref head, destination[read..]);
            }

            if (head.Length == 0)
            {
                DropHead();
            }
        }

        return read;
    }

    /// <summary>Takes the head message: what is left of the payload of one data message. The queue must not be empty.</summary>
    public byte[] TakeMessage() =>
        MemoryMarshal.TryGetArray<byte>(TakeMessage(Memory<byte>.Empty), out var message) ? message.Array! : [];

    /// <summary>
    /// Takes the head message into <paramref name="buffer"/> when it fits, else into a new array of its length; returns
    /// the memory holding it. The queue must not be empty (and holds no empty message).
    /// </summary>
    public Memory<byte> TakeMessage(Memory<byte> buffer)
    {
        ref var head = ref _items[_head];
        ReadOnlySpan<byte> payload;
        int consumed;
        if (!head.Buffer.IsPacked)
        {
            payload = head.Span;
            consumed = head.Length;
        }
        else
        {
            var array = head.Buffer.Array;
            var length = ReadPrefix(array, head.Offset, out var prefix);
            payload = array.AsSpan(head.Offset + prefix, length);
            consumed = prefix + length;
        }

        Memory<byte> message = payload.Length <= buffer.Length ? buffer[..payload.Length] : new byte[payload.Length];
        payload.CopyTo(message.Span);
        head.Offset += consumed;
        head.Length -= consumed;
        if (head.Length == 0)
        {
            DropHead();
        }

        return message;
    }

    /// <summary>Releases every queued buffer.</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            Dequeue().Buffer.Release();
        }

        ReleaseSpare();
    }

    private static int TakePacked(ref ReceiveSegment head, Span<byte> destination)
    {
        var array = head.Buffer.Array;
        var read = 0;
        while (read < destination.Length && head.Length > 0)
        {
            var length = ReadPrefix(array, head.Offset, out var prefix);
            var n = Math.Min(length, destination.Length - read);
            array.AsSpan(head.Offset + prefix, n).CopyTo(destination[read..]);
            read += n;
            if (n == length)
            {
                head.Offset += prefix + length;
                head.Length -= prefix + length;
                continue;
            }

            // Part of a message was read: what is left becomes a shorter message, its prefix rewritten just in front of
            // it (never longer than the old one, so it fits in bytes already consumed).
            var left = length - n;
            var start = head.Offset + prefix + n - PrefixLength(left);
            WritePrefix(array.AsSpan(start), left);
            head.Length -= start - head.Offset;
            head.Offset = start;
        }

        return read;
    }

    /// <summary>Packs a small payload behind the last one, or into a new packed block when it does not fit there.</summary>
    private void Pack(ReadOnlySpan<byte> payload, IBufferAccounting counters)
    {
        var needed = PrefixLength(payload.Length) + payload.Length;
        if (_count > 0)
        {
            ref var tail = ref Tail;
            var end = tail.Offset + tail.Length;
            if (tail.Buffer.IsPacked && tail.Buffer.Array.Length - end >= needed)
            {
                tail.Length += PackInto(tail.Buffer.Array.AsSpan(end), payload);
                return;
            }
        }

        var inRun = _count > 0 && Tail.Buffer.IsPacked;
        CompactTail(counters);
        var size = Math.Max(inRun ? PackedBlock : SmallPackedBlock, needed);
        RecordBuffer block;
        if (_spare is { } spare && spare.Array.Length >= size && spare.Array.Length <= 2 * size)
        {
            block = spare;
            _spare = null;
        }
        else
        {
            block = RecordBuffer.RentPacked(counters, size);
        }

        Add(new ReceiveSegment(block, 0, PackInto(block.Array, payload)));
    }

    /// <summary>
    /// Something is about to be queued behind the last block: a packed block less than half full is copied down to its
    /// content first, so that only the last block can hold much more than its bytes.
    /// </summary>
    private void CompactTail(IBufferAccounting counters)
    {
        if (_count == 0)
        {
            return;
        }

        ref var tail = ref Tail;
        if (!tail.Buffer.IsPacked || 2L * tail.Length >= tail.Buffer.Array.Length)
        {
            return;
        }

        var compact = RecordBuffer.RentPacked(counters, tail.Length);
        tail.Span.CopyTo(compact.Array);
        tail.Buffer.Release();
        tail = new ReceiveSegment(compact, 0, tail.Length);
    }

    private ref ReceiveSegment Tail => ref _items[(_head + _count - 1) % _items.Length];

    /// <summary>
    /// Drops the head, which was read to its end. A packed block is kept as the spare for the next one while more is
    /// queued (a reader behind a stream of small payloads then rents nothing); an empty queue holds nothing.
    /// </summary>
    private void DropHead()
    {
        var buffer = Dequeue().Buffer;
        if (buffer.IsPacked && _count > 0 && _spare is null)
        {
            _spare = buffer;
        }
        else
        {
            buffer.Release();
        }

        if (_count == 0)
        {
            ReleaseSpare();
        }
    }

    private void ReleaseSpare()
    {
        _spare?.Release();
        _spare = null;
    }

    private void Add(ReceiveSegment segment)
    {
        if (_count == _items.Length)
        {
            var grown = new ReceiveSegment[_items.Length * 2];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _items[(_head + i) % _items.Length];
            }

            _items = grown;
            _head = 0;
        }

        _items[(_head + _count) % _items.Length] = segment;
        _count++;
    }

    private ReceiveSegment Dequeue()
    {
        var item = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        _count--;
        return item;
    }

    // A packed payload's length (below PackLimit) in one byte when under 128, else two: seven bits with the high bit
    // set, then the rest.
    private static int PrefixLength(int length) => length < 0x80 ? 1 : 2;

    private static int PackInto(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        var prefix = WritePrefix(destination, payload.Length);
        payload.CopyTo(destination[prefix..]);
        return prefix + payload.Length;
    }

    private static int WritePrefix(Span<byte> destination, int length)
    {
        if (length < 0x80)
        {
            destination[0] = (byte)length;
            return 1;
        }

        destination[0] = (byte)(length | 0x80);
        destination[1] = (byte)(length >> 7);
        return 2;
    }

    private static int ReadPrefix(byte[] array, int offset, out int prefix)
    {
        var first = array[offset];
        if (first < 0x80)
        {
            prefix = 1;
            return first;
        }

        prefix = 2;
        return (first & 0x7F) | (array[offset + 1] << 7);
    }
}
