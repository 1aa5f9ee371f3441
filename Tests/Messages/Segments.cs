using System.Buffers;

namespace FlowOrleans.Tests.Messages;

/// <summary>Builds multi-segment sequences, each segment in its own array, so decoding cannot cheat across them.</summary>
internal static class Segments
{
    /// <summary>Splits <paramref name="data"/> at <paramref name="cuts"/> (any order, repeats give empty segments).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, IEnumerable<int> cuts)
    {
        var pieces = new List<byte[]>();
        int start = 0;
        foreach (int cut in cuts.Order())
        {
            pieces.Add(data[start..cut].ToArray());
            start = cut;
        }

        pieces.Add(data[start..].ToArray());
        return FromPieces(pieces);
    }

    /// <summary>Splits at fractions of the length in [0, 1], which generators can produce before the length is known.</summary>
    public static ReadOnlySequence<byte> SplitAtFractions(ReadOnlySpan<byte> data, IEnumerable<double> fractions)
    {
        int length = data.Length;
        return Split(data, fractions.Select(f => (int)(f * length)));
    }

    public static ReadOnlySequence<byte> FromPieces(IReadOnlyList<byte[]> pieces)
    {
        if (pieces.Count == 1)
        {
            return new ReadOnlySequence<byte>(pieces[0]);
        }

        var first = new Segment(pieces[0], 0);
        Segment last = first;
        for (int i = 1; i < pieces.Count; i++)
        {
            last = last.Append(pieces[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>
    /// A sequence whose <see cref="ReadOnlySequence{T}.Length"/> claims <paramref name="length"/> bytes while
    /// holding two: lets size checks be tested without allocating gigabytes. Only for code that measures.
    /// </summary>
    public static ReadOnlySequence<byte> ClaimingLength(long length)
    {
        var first = new Segment(new byte[1], 0);
        var last = new Segment(new byte[1], length - 1);
        first.Next = last;
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public new Segment? Next
        {
            get => (Segment?)base.Next;
            set => base.Next = value;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
