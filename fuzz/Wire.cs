using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Fuzz;

/// <summary>Encoding helpers shared by the targets and their seeds.</summary>
internal static class Wire
{
    public static byte[] Encode(params ReadOnlySpan<Message> messages)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            MessageCodec.Write(output, message);
        }

        return output.WrittenSpan.ToArray();
    }

    public static ReadOnlySequence<byte> Bytes(params byte[] bytes) => new(bytes);

    /// <summary>The same bytes as a sequence of segments of at most <paramref name="segmentLength"/> bytes each.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentLength)
    {
        if (bytes.Length <= segmentLength)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, segmentLength), 0);
        var last = first;
        for (int start = segmentLength; start < bytes.Length; start += segmentLength)
        {
            last = last.Append(bytes.AsMemory(start, Math.Min(segmentLength, bytes.Length - start)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
