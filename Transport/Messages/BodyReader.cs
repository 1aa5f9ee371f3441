using System.Buffers;
using System.Text;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Reads the fields of one complete message body. The body is whole, so running out of bytes is
/// malformed input, never "need more". Lengths and counts are checked against the bytes left in the
/// body before anything is sliced or allocated, which bounds every allocation by the input's size.
/// </summary>
internal ref struct BodyReader
{
    private SequenceReader<byte> _reader;

    public BodyReader(ReadOnlySequence<byte> body)
    {
        _reader = new SequenceReader<byte>(body);
    }

    public ulong ReadUInt64(string field)
    {
        VarIntStatus status = VarInt.TryRead(ref _reader, ulong.MaxValue, out ulong value);
        if (status != VarIntStatus.Done)
        {
            MessageErrors.ThrowMalformedVarInt(status, field);
        }

        return value;
    }

    public uint ReadUInt32(string field)
    {
        ulong value = ReadUInt64(field);
        if (value > uint.MaxValue)
        {
            MessageErrors.ThrowMalformed(field + " is out of range.");
        }

        return (uint)value;
    }

    public ushort ReadUInt16(string field)
    {
        ulong value = ReadUInt64(field);
        if (value > ushort.MaxValue)
        {
            MessageErrors.ThrowMalformed(field + " is out of range.");
        }

        return (ushort)value;
    }

    public DataFlags ReadFlags()
    {
        ulong value = ReadUInt64("Flags");
        if ((value & ~(ulong)MessageCodec.KnownDataFlags) != 0)
        {
            MessageErrors.ThrowMalformed("unknown data flags.");
        }

        return (DataFlags)value;
    }

    /// <summary>Reads a length-prefixed byte string as a slice of the input.</summary>
    public ReadOnlySequence<byte> ReadBytes(string field)
    {
        int length = ReadLength(field);
        ReadOnlySequence<byte> bytes = _reader.UnreadSequence.Slice(0, length);
        _reader.Advance(length);
        return bytes;
    }

    /// <summary>Reads a length-prefixed UTF-8 string; invalid UTF-8 is malformed, not replaced.</summary>
    public string ReadString(string field)
    {
        int length = ReadLength(field);
        if (length == 0)
        {
            return string.Empty;
        }

        string value;
        try
        {
            ReadOnlySpan<byte> span = _reader.UnreadSpan;
            value = span.Length >= length
                ? MessageCodec.StrictUtf8.GetString(span[..length])
                : MessageCodec.StrictUtf8.GetString(_reader.UnreadSequence.Slice(0, length));
        }
        catch (DecoderFallbackException e)
        {
            throw MessageErrors.Malformed(field + " is not valid UTF-8.", e);
        }

        _reader.Advance(length);
        return value;
    }

    /// <summary>
    /// Reads a list count, rejecting any count the rest of the body cannot hold at
    /// <paramref name="minItemLength"/> bytes an item, so a peer cannot make the caller pre-size a huge list.
    /// </summary>
    public int ReadCount(string field, int minItemLength)
    {
        ulong count = ReadUInt64(field);
        if (count > (ulong)(_reader.Remaining / minItemLength))
        {
            MessageErrors.ThrowMalformed(field + " count exceeds the body.");
        }

        return (int)count;
    }

    /// <summary>The unread rest of the body, as a slice: the payload of Data and OpenFlow.</summary>
    public ReadOnlySequence<byte> ReadToEnd()
    {
        ReadOnlySequence<byte> rest = _reader.UnreadSequence;
        _reader.AdvanceToEnd();
        return rest;
    }

    /// <summary>Strict decoding: a body with bytes after its last field is malformed.</summary>
    public readonly void EnsureEnd(MessageType type)
    {
        if (!_reader.End)
        {
            MessageErrors.ThrowMalformed($"{_reader.Remaining} unexpected trailing bytes in {type}.");
        }
    }

    private int ReadLength(string field)
    {
        ulong length = ReadUInt64(field);
        if (length > (ulong)_reader.Remaining)
        {
            MessageErrors.ThrowMalformed(field + " length exceeds the body.");
        }

        // The body is at most int.MaxValue bytes (its length came through an int limit), so this fits.
        return (int)length;
    }
}
