using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Unsigned LEB128: seven bits a byte, least significant group first, high bit set while more follow.
/// Only the shortest encoding of a value is accepted, so every value has exactly one wire form and a
/// peer cannot pad a varint to smuggle bytes or stall the parser.
/// </summary>
internal static class VarInt
{
    /// <summary>Bytes needed for any <see cref="ulong"/> (64 bits / 7, rounded up).</summary>
    public const int MaxLength = 10;

    /// <summary>Bytes needed for any non-negative <see cref="int"/>.</summary>
    public const int MaxInt32Length = 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GetLength(ulong value)
        // "| 1" makes zero count as one significant bit, so it takes one byte like every value below 0x80.
        => ((64 - BitOperations.LeadingZeroCount(value | 1)) + 6) / 7;

    /// <summary>Writes <paramref name="value"/>; the caller guarantees <see cref="GetLength"/> bytes of room.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Write(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Reads a varint no larger than <paramref name="max"/>. Advances <paramref name="reader"/> only on
    /// <see cref="VarIntStatus.Done"/>. Reports <see cref="VarIntStatus.AboveLimit"/> as soon as the bytes
    /// seen so far prove the value too large, even if the varint is not complete yet.
    /// </summary>
    public static VarIntStatus TryRead(ref SequenceReader<byte> reader, ulong max, out ulong value)
    {
        // Fast path: the whole varint is in the current segment, which is nearly always the case.
        ReadOnlySpan<byte> span = reader.UnreadSpan;
        ulong result = 0;
        int limit = Math.Min(span.Length, MaxLength);
        for (int i = 0; i < limit; i++)
        {
            VarIntStatus status = Accumulate(ref result, i, span[i], max);
            if (status != VarIntStatus.Incomplete)
            {
                if (status == VarIntStatus.Done)
                {
                    reader.Advance(i + 1);
                }

                value = result;
                return status;
            }
        }

        // Ten bytes always settle a varint, so here the span ended inside one.
        if (reader.Remaining <= span.Length)
        {
            value = 0;
            return VarIntStatus.Incomplete;
        }

        return TryReadSlow(ref reader, max, out value);
    }

    private static VarIntStatus TryReadSlow(ref SequenceReader<byte> reader, ulong max, out ulong value)
    {
        SequenceReader<byte> probe = reader;
        ulong result = 0;
        for (int i = 0; i < MaxLength && probe.TryRead(out byte b); i++)
        {
            VarIntStatus status = Accumulate(ref result, i, b, max);
            if (status != VarIntStatus.Incomplete)
            {
                if (status == VarIntStatus.Done)
                {
                    reader = probe;
                }

                value = result;
                return status;
            }
        }

        value = 0;
        return VarIntStatus.Incomplete;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static VarIntStatus Accumulate(ref ulong result, int index, byte b, ulong max)
    {
        if (index == MaxLength - 1 && b > 1)
        {
            // The tenth byte holds only bit 63: anything more overflows 64 bits or continues past ten bytes.
            return VarIntStatus.Malformed;
        }

        result |= (ulong)(b & 0x7F) << (7 * index);
        if (b < 0x80)
        {
            if (b == 0 && index > 0)
            {
                return VarIntStatus.Malformed; // A zero last byte means a shorter encoding existed.
            }

            return result > max ? VarIntStatus.AboveLimit : VarIntStatus.Done;
        }

        // More bytes follow and the last must be non-zero, so the value is at least 2^(7 * (index + 1)).
        ulong lowerBound = result | (1UL << (7 * (index + 1)));
        return lowerBound > max ? VarIntStatus.AboveLimit : VarIntStatus.Incomplete;
    }
}
