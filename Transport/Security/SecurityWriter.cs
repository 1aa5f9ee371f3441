using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// Writers for the security encodings: big-endian fixed-width integers and u16-length-prefixed fields,
/// so every value has exactly one encoding. Strings are encoded strictly: a lone surrogate is a
/// <see cref="FlowErrorCode.BadArg"/> rather than a silent U+FFFD that would not round-trip.
/// </summary>
internal static class SecurityWriter
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void WriteByte(IBufferWriter<byte> writer, byte value)
    {
        writer.GetSpan(1)[0] = value;
        writer.Advance(1);
    }

    public static void WriteUInt16(IBufferWriter<byte> writer, ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(writer.GetSpan(2), value);
        writer.Advance(2);
    }

    public static void WriteUInt32(IBufferWriter<byte> writer, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    public static void WriteBytes(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty)
        {
            writer.Write(value);
        }
    }

    public static void WriteLengthPrefixed(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        // Callers validate lengths against SecurityLimits (all far below 64 KiB) before encoding.
        WriteUInt16(writer, checked((ushort)value.Length));
        WriteBytes(writer, value);
    }

    public static void WriteString(IBufferWriter<byte> writer, string value)
    {
        var bytes = Utf8Bytes(value, "string");
        WriteLengthPrefixed(writer, bytes);
    }

    /// <summary>Strict UTF-8 bytes of <paramref name="value"/>; <see cref="FlowErrorCode.BadArg"/> on unpaired surrogates.</summary>
    public static byte[] Utf8Bytes(string value, string what)
    {
        try
        {
            return s_strictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The {what} is not valid Unicode.", e);
        }
    }

    public static int Utf8Length(string value, string what)
    {
        try
        {
            return s_strictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The {what} is not valid Unicode.", e);
        }
    }
}
