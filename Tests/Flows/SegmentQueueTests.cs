using System.Runtime.InteropServices;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Tests.Flows;

/// <summary>
/// A flow's receive queue on its own: what it keeps of the records it is handed (docs/security.md, "Transport: memory
/// budgets"), and that the bytes and message boundaries come out as they went in.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SegmentQueueTests
{
    private readonly ConnectionCounters _counters = new();

    /// <summary>A record as the read loop has it: filled with <paramref name="fill"/>, its own reference still held.</summary>
    private RecordBuffer Record(int size, byte fill = 0)
    {
        var record = RecordBuffer.Rent(_counters, size);
        record.Array.AsSpan(0, size).Fill(fill);
        return record;
    }

    /// <summary>Queues a slice of a record and lets the record go, as the read loop does after dispatching it.</summary>
    private void Deliver(SegmentQueue queue, RecordBuffer record, int offset, int length)
    {
        queue.Enqueue(record, offset, length, _counters);
        record.Release();
    }

    [Fact]
    public void ALoneMessageAndBulkSlicesStayInTheirRecord()
    {
        var queue = new SegmentQueue();
        var message = Record(100);
        queue.Enqueue(message, 0, 90, _counters); // most of its record, and nothing queued before it: kept in place
        Assert.Equal(1, _counters.OutstandingBuffers);

        var bulk = Record(RecordLayout.MaxPlaintext);
        queue.Enqueue(bulk, 0, 60_000, _counters);
        Assert.Equal(2, _counters.OutstandingBuffers); // no copy either

        message.Release();
        bulk.Release();
        queue.Clear();
        Assert.Equal(0, _counters.OutstandingBuffers);
        Assert.Equal(0, _counters.RetainedBufferBytes);
    }

    [Fact]
    public void ASmallSliceOfALargeRecordDoesNotKeepTheRecordAlive()
    {
        var queue = new SegmentQueue();
        for (var i = 0; i < 100; i++)
        {
            // One byte for this flow in a full record whose rest another flow read at once.
            Deliver(queue, Record(RecordLayout.MaxPlaintext, (byte)i), 5, 1);
            var larger = Record(RecordLayout.MaxPlaintext, (byte)i);
            Deliver(queue, larger, 100, 2_000);
        }

        var buffered = 100 * 2_001;
        Assert.InRange(_counters.RetainedBufferBytes, buffered, (2 * (buffered + 200)) + SegmentQueue.PackedBlock);

        var all = new byte[buffered + 1];
        Assert.Equal(buffered, queue.Take(all));
        for (var i = 0; i < 100; i++)
        {
            Assert.True(all.AsSpan(i * 2_001, 2_001).IndexOfAnyExcept((byte)i) < 0);
        }

        Assert.Equal(0, _counters.RetainedBufferBytes);
    }

    [Fact]
    public void TinyMessagesArePackedAndKeepTheirBoundaries()
    {
        var queue = new SegmentQueue();
        var sizes = Enumerable.Range(5, 5_000).Select(i => 1 + (i * 7 % 300)).ToArray();
        var source = Record(RecordLayout.MaxPlaintext);
        for (var i = 0; i < source.Array.Length; i++)
        {
            source.Array[i] = (byte)i;
        }

        long content = 0;
        var offset = 0;
        foreach (var size in sizes)
        {
            queue.Enqueue(source, offset, size, _counters);
            offset = (offset + size) % 60_000;
            content += size + (size < 128 ? 1 : 2);
        }

        source.Release();
        Assert.InRange(_counters.RetainedBufferBytes, content, (2 * content) + SegmentQueue.PackedBlock);

        // A partial read of a packed message leaves the rest of it as the next message.
        var part = new byte[1];
        Assert.Equal(1, queue.Take(part));
        Assert.Equal(sizes[0] - 1, queue.TakeMessage().Length);
        offset = sizes[0];
        foreach (var size in sizes.Skip(1))
        {
            var message = queue.TakeMessage();
            Assert.Equal(size, message.Length);
            Assert.Equal((byte)offset, message[0]);
            offset = (offset + size) % 60_000;
        }

        Assert.Equal(0, queue.Count);
        Assert.Equal(0, _counters.RetainedBufferBytes);
    }

    [Fact]
    public void AReaderBehindBulkWithSliversOfOtherRecordsAllocatesNothing()
    {
        // Bulk data as the writer sends it: a full chunk, then the sliver of the next chunk that fits the record's end.
        var queue = new SegmentQueue();
        var records = Enumerable.Range(0, 4).Select(_ => Record(RecordLayout.MaxPlaintext)).ToArray();
        var read = new byte[61_000];
        void Arrive(int i)
        {
            queue.Enqueue(records[i % 4], 0, 60_000, _counters);
            queue.Enqueue(records[(i + 1) % 4], 60_000, 1_000, _counters);
        }

        Arrive(0);
        for (var i = 1; i < 100; i++)
        {
            Arrive(i);
            Assert.Equal(read.Length, queue.Take(read));
        }

        long taken = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 100; i < 1_100; i++)
        {
            Arrive(i);
            taken += queue.Take(read);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_000L * read.Length, taken);
        Assert.Equal(0, allocated);
        queue.Clear();
        foreach (var record in records)
        {
            record.Release();
        }

        Assert.Equal(0, _counters.OutstandingBuffers);
    }

    [Fact]
    public void MessagesTakenIntoACallersBufferUseItWhenTheyFitPackedOrNot()
    {
        // Vanadium's ReadMsg2: the caller's buffer holds the message when it is large enough, else a new one does.
        var queue = new SegmentQueue();
        var small = Record(RecordLayout.MaxPlaintext, fill: 7);
        queue.Enqueue(small, 0, 10, _counters); // packed
        queue.Enqueue(small, 10, 20, _counters); // packed behind it
        small.Release();
        var lone = Record(3000, fill: 9);
        Deliver(queue, lone, 0, 2000); // kept in its record

        var buffer = new byte[1024];
        var first = queue.TakeMessage(buffer);
        Assert.Equal(10, first.Length);
        Assert.True(first.Span.Overlaps(buffer));
        var second = queue.TakeMessage(buffer);
        Assert.Equal(20, second.Length);
        Assert.True(second.Span.Overlaps(buffer));
        Assert.All(second.ToArray(), b => Assert.Equal(7, b));
        var third = queue.TakeMessage(buffer);
        Assert.Equal(2000, third.Length);
        Assert.False(third.Span.Overlaps(buffer));
        Assert.All(third.ToArray(), b => Assert.Equal(9, b));
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, _counters.RetainedBufferBytes);
    }

    [Fact]
    public void WhateverArrivesOnlyTheLastBlockHoldsMuchMoreThanItsBytes()
    {
        var random = new Random(16);
        for (var round = 0; round < 20; round++)
        {
            var queue = new SegmentQueue();
            var expected = new List<byte>();
            long content = 0;
            for (var i = 0; i < 400; i++)
            {
                // Slices of every size from records of every size, most of whose bytes other flows took.
                var recordSize = random.Next(1, RecordLayout.MaxPlaintext + 1);
                var length = random.Next(2) == 0 ? random.Next(1, Math.Min(recordSize, 200) + 1) : random.Next(1, recordSize + 1);
                var offset = random.Next(0, recordSize - length + 1);
                var record = Record(recordSize);
                random.NextBytes(record.Array.AsSpan(offset, length));
                expected.AddRange(record.Array.AsSpan(offset, length));
                Deliver(queue, record, offset, length);
                content += length + 2;

                // The bound docs/security.md states: 2.1 times the bytes held (with the lengths of packed payloads;
                // a full-size record may hold 49 % of its array, a tiny block 16 bytes), plus the last block.
                Assert.InRange(_counters.RetainedBufferBytes, 1, (long)(2.1 * content) + (2 * SegmentQueue.PackedBlock));
            }

            var read = new byte[expected.Count];
            var taken = 0;
            while (taken < read.Length)
            {
                taken += queue.Take(read.AsSpan(taken, Math.Min(read.Length - taken, random.Next(1, 5_000))));
            }

            // Compared as spans: xUnit's element-by-element comparison of megabytes takes minutes.
            Assert.True(read.AsSpan().SequenceEqual(CollectionsMarshal.AsSpan(expected)), "the bytes read differ from those delivered");
            Assert.Equal(0, _counters.RetainedBufferBytes);
        }
    }
}
