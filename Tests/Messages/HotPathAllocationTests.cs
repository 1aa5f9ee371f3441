using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

/// <summary>The per-message traffic of an open connection (data and credit) must not feed the GC beyond the message itself.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class HotPathAllocationTests
{
    [Fact]
    public void DecodingDataAllocatesOnlyTheMessage()
    {
        byte[] encoded = Codec.Encode(new Data(1UL << 50, DataFlags.Close, new ReadOnlySequence<byte>(new byte[16 * 1024])));
        ReadOnlySequence<byte> contiguous = new(encoded);
        ReadOnlySequence<byte> segmented = Segments.Split(encoded, [1, 3, 7, 100, 9000]);

        long dataObject = Allocated(() => _ = new Data(1, DataFlags.None, default));
        Decode(contiguous);
        Decode(segmented); // Warm up: the first call may allocate while the runtime loads code.

        Assert.Equal(dataObject, Allocated(() => Decode(contiguous)));
        Assert.Equal(dataObject, Allocated(() => Decode(segmented)));

        static void Decode(ReadOnlySequence<byte> input)
            => Assert.True(MessageCodec.TryRead(input, MessageCodec.DefaultMaxMessageSize, out _, out _));
    }

    [Fact]
    public void EncodingDataAndReleaseAllocatesNothing()
    {
        var output = new ArrayBufferWriter<byte>(1 << 20);
        Message data = new Data(7, DataFlags.None, Segments.Split(new byte[40_000], [100, 20_000]));
        Message release = new Release([new FlowCredit(1, 2), new FlowCredit(3, 1 << 20)]);
        Span<byte> header = stackalloc byte[MessageCodec.MaxDataHeaderSize];
        EncodeAll(output, data, release, header);
        output.ResetWrittenCount();

        long before = GC.GetAllocatedBytesForCurrentThread();
        EncodeAll(output, data, release, header);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(output.WrittenCount > 40_000);

        static void EncodeAll(ArrayBufferWriter<byte> output, Message data, Message release, Span<byte> header)
        {
            MessageCodec.Write(output, data);
            MessageCodec.Write(output, release);
            MessageCodec.WriteDataHeader(header, 7, DataFlags.Close, 1000);
            MessageCodec.WriteOpenFlowHeader(header, 7, 1 << 16, DataFlags.None, 1000);
        }
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
