using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// Forward-only reader for the security encodings. Every failure (truncation, an over-limit length,
/// invalid UTF-8) is a <see cref="FlowException"/> with <see cref="FlowErrorCode.BadArg"/>, so callers
/// decoding untrusted bytes never see any other exception type.
/// </summary>
internal ref struct SecurityReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _what;
    private int _position;

    public SecurityReader(ReadOnlySpan<byte> buffer, string what)
    {
        _buffer = buffer;
        _what = what;
        _position = 0;
    }

    public readonly int Remaining => _buffer.Length - _position;

    public readonly int Position => _position;

    /// <summary>The bytes read since <paramref name="start"/> (a <see cref="Position"/> taken earlier).</summary>
    public readonly ReadOnlySpan<byte> ConsumedSince(int start) => _buffer[start.._position];

    public byte ReadByte()
    {
        if (Remaining < 1)
        {
            throw Truncated();
        }

        return _buffer[_position++];
    }

    public ushort ReadUInt16()
    {
        if (Remaining < 2)
        {
            throw Truncated();
        }

        var value = BinaryPrimitives.ReadUInt16BigEndian(_buffer.Slice(_position, 2));
        _position += 2;
        return value;
    }

    public uint ReadUInt32()
    {
        if (Remaining < 4)
        {
            throw Truncated();
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(_position, 4));
        _position += 4;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if ((uint)count > (uint)Remaining)
        {
            throw Truncated();
        }

        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    /// <summary>Reads a u16 length then that many bytes; the length is bounded before anything is sliced.</summary>
    public ReadOnlySpan<byte> ReadLengthPrefixed(int maxLength, string field)
    {
        int length = ReadUInt16();
        if (length > maxLength)
        {
            throw Malformed($"{field} is {length} bytes, over the limit of {maxLength}");
        }

        return ReadBytes(length);
    }

    /// <summary>Reads a u16-prefixed string that must be well-formed UTF-8 (so decoding is exactly the inverse of encoding).</summary>
    public string ReadString(int maxLength, string field)
    {
        var bytes = ReadLengthPrefixed(maxLength, field);
        if (!Utf8.IsValid(bytes))
        {
            throw Malformed($"{field} is not valid UTF-8");
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads a u8 count bounded by <paramref name="max"/> and by the bytes left, given each item's minimum size.</summary>
    public int ReadCount(int min, int max, int minItemBytes, string field)
    {
        int count = ReadByte();
        if (count < min || count > max)
        {
            throw Malformed($"{field} count {count} is outside [{min}, {max}]");
        }

        if ((long)count * minItemBytes > Remaining)
        {
            throw Truncated();
        }

        return count;
    }

    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw Malformed($"{Remaining} trailing bytes");
        }
    }

    public readonly FlowException Malformed(string detail) =>
        new(FlowErrorCode.BadArg, $"Malformed {_what}: {detail}.");

    private readonly FlowException Truncated() =>
        new(FlowErrorCode.BadArg, $"Malformed {_what}: truncated at byte {_position}.");
}
