using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// The one codec of the flow protocol's wire messages.
/// </summary>
/// <remarks>
/// <para><b>Framing.</b> A message is <c>type</c> (1 byte) · <c>bodyLength</c> (varint) · <c>body</c>
/// (<c>bodyLength</c> bytes). Several messages may follow each other in one decrypted record; during the
/// handshake's first step they travel in plaintext frames. The reader's limit applies to <c>bodyLength</c>
/// and is enforced as soon as the length prefix proves it exceeded, before any body byte is awaited.</para>
/// <para><b>Field encodings.</b>
/// <c>u</c>: unsigned LEB128 varint (7 bits a byte, low group first, high bit = more follows), at most
/// 10 bytes, minimal form only (a multi-byte varint may not end in 0x00; the tenth byte may only be 0x01),
/// and range-checked when the field is narrower than 64 bits.
/// <c>bytes</c>: <c>u</c> length · raw bytes. <c>string</c>: <c>u</c> byte length · strict UTF-8 (invalid
/// sequences are errors, never replaced). <c>list&lt;T&gt;</c>: <c>u</c> count · items.
/// <c>flags</c>: <c>u</c> holding <see cref="DataFlags"/>; undefined bits are errors.
/// <c>rest</c>: every remaining body byte, no length (the body length already bounds it).</para>
/// <para><b>Bodies</b> (fields in this order):
/// <code>
///  1 Setup               u MinVersion, u MaxVersion, bytes EphemeralPublicKey, string LocalEndpoint,
///                        string RemoteEndpoint, u Mtu, u SharedCredit, bytes Ciphers (1 byte a cipher id),
///                        bytes Nonce
///  2 Auth                bytes Blessings, bytes Discharges, bytes Signature
///  3 OpenFlow            u FlowId, u InitialCredit, flags Flags, rest Payload
///  4 Data                u FlowId, flags Flags, rest Payload
///  5 Release             list&lt;u FlowId, u Bytes&gt; Credits (at least one)
///  6 HealthCheckRequest  u Nonce
///  7 HealthCheckResponse u Nonce
///  8 EnterLameDuck       (empty)
///  9 AckLameDuck         (empty)
/// 10 TearDown            varint Code (a FlowErrorCode, 1..9), string Reason
/// 11 ProxyServerRequest  (empty)
/// 12 ProxyResponse       list&lt;string&gt; Endpoints
/// 13 ProxyErrorResponse  string Error
/// 14 CloseFlow           u FlowId, varint Code (a FlowErrorCode, 1..9), string Reason
/// 15 AuthAccepted        (empty)
/// </code></para>
/// <para><b>Strictness.</b> An unknown type, a field running past the body, bytes left after the last
/// field, or any rule above broken is <see cref="FlowErrorCode.BadArg"/>. Lengths and counts are checked
/// against the bytes left in the body before anything is sliced or allocated, so decoding allocates at
/// most a constant plus a small multiple of the input's size, whatever the input declares.</para>
/// <para><b>Zero copy.</b> Byte-string and payload fields of decoded messages are slices of the input.
/// Senders of Data and OpenFlow write only the header (<see cref="WriteDataHeader"/>,
/// <see cref="WriteOpenFlowHeader"/>) and copy their payload right after it.</para>
/// <para><b>Errors.</b> Malformed input and unencodable field values throw <see cref="FlowException"/>
/// with <see cref="FlowErrorCode.BadArg"/>; misuse of the API itself (null arguments, a negative limit,
/// a destination too small for a header) throws the usual <see cref="ArgumentException"/> family.</para>
/// </remarks>
public static class MessageCodec
{
    /// <summary>
    /// Default limit on <c>bodyLength</c>: a 1 MiB payload plus the largest Data/OpenFlow fields
    /// (21 bytes) fits, with headroom; peers cut data messages at their MTU, far below it.
    /// </summary>
    public const int DefaultMaxMessageSize = (1 << 20) + 64;

    /// <summary>
    /// Upper bound of the header written by <see cref="WriteDataHeader"/> and <see cref="WriteOpenFlowHeader"/>:
    /// type, a body length up to <see cref="int.MaxValue"/>, flow id, initial credit, flags.
    /// </summary>
    public const int MaxDataHeaderSize = 1 + VarInt.MaxInt32Length + VarInt.MaxLength + VarInt.MaxLength + 1;

    // The whole encoded message must stay addressable by an int: type byte + 5-byte length + body.
    internal const int MaxBodyLength = int.MaxValue - 1 - VarInt.MaxInt32Length;

    internal const DataFlags KnownDataFlags = DataFlags.Close;

    private const int MessageTypeCount = (int)MessageType.AuthAccepted;

    // The largest span Write asks for up front; bigger messages are written in the pieces the output gives.
    private const int MaxInitialSpan = 4096;

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Appends the encoding of <paramref name="message"/> to <paramref name="output"/>.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/>: a field cannot be encoded (null,
    /// unknown flags, a Release without credits, invalid UTF-16, a body too large for the format).
    /// Nothing has been written then.</exception>
    public static void Write(IBufferWriter<byte> output, Message message)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(message);

        int bodyLength = MessageBodies.GetLength(message);
        int totalLength = 1 + VarInt.GetLength((uint)bodyLength) + bodyLength;
        var writer = new MessageWriter(output, Math.Min(totalLength, MaxInitialSpan));
        writer.WriteByte((byte)message.Type);
        writer.WriteVarInt((uint)bodyLength);
        MessageBodies.Write(ref writer, message);
        writer.Commit();
    }

    /// <summary>The number of bytes <see cref="Write"/> appends for <paramref name="message"/>.</summary>
    public static int GetEncodedLength(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);

        int bodyLength = MessageBodies.GetLength(message);
        return 1 + VarInt.GetLength((uint)bodyLength) + bodyLength;
    }

    /// <summary>
    /// Decodes one message from the start of <paramref name="input"/>.
    /// </summary>
    /// <param name="input">Buffered bytes; may hold a partial message or several messages.</param>
    /// <param name="maxMessageSize">The largest body length accepted.</param>
    /// <param name="message">The message; its byte fields are slices of <paramref name="input"/>.</param>
    /// <param name="consumed">The position after the message, or the start of <paramref name="input"/> if none.</param>
    /// <returns><see langword="false"/> if <paramref name="input"/> holds only a prefix of a valid message.</returns>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/>: the bytes can never become a valid
    /// message (unknown type, malformed field, trailing bytes), or the declared body length exceeds
    /// <paramref name="maxMessageSize"/>, reported as soon as the length prefix shows it.</exception>
    public static bool TryRead(
        in ReadOnlySequence<byte> input,
        int maxMessageSize,
        [NotNullWhen(true)] out Message? message,
        out SequencePosition consumed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageSize);

        var reader = new SequenceReader<byte>(input);
        message = null;
        consumed = input.Start;
        if (!reader.TryRead(out byte type))
        {
            return false;
        }

        if ((uint)(type - 1) >= MessageTypeCount)
        {
            // Fail on the first byte: no later byte can make an unknown type valid.
            MessageErrors.ThrowMalformed($"unknown message type {type}.");
        }

        VarIntStatus status = VarInt.TryRead(ref reader, (ulong)maxMessageSize, out ulong bodyLength);
        if (status != VarIntStatus.Done)
        {
            if (status == VarIntStatus.Incomplete)
            {
                return false;
            }

            ThrowBadBodyLength(status, maxMessageSize);
        }

        if (reader.Remaining < (long)bodyLength)
        {
            return false;
        }

        ReadOnlySequence<byte> body = input.Slice(reader.Position, (long)bodyLength);
        message = MessageBodies.Read((MessageType)type, body);
        consumed = body.End;
        return true;
    }

    /// <summary>
    /// Writes the header of a <see cref="Data"/> message whose <paramref name="payloadLength"/> payload bytes
    /// the caller copies right after it. Header plus payload decode as that Data message.
    /// </summary>
    /// <returns>Bytes written: <see cref="GetDataHeaderLength"/>, at most <see cref="MaxDataHeaderSize"/>.</returns>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/>: unknown flags, or a payload length
    /// negative or too large for the format.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the header.</exception>
    public static int WriteDataHeader(Span<byte> destination, ulong flowId, DataFlags flags, int payloadLength)
    {
        ValidateFlags(flags);
        int fieldsLength = VarInt.GetLength(flowId) + 1;
        int bodyLength = GetBodyLength(fieldsLength, payloadLength);
        int headerLength = 1 + VarInt.GetLength((uint)bodyLength) + fieldsLength;
        EnsureRoom(destination, headerLength);

        destination[0] = (byte)MessageType.Data;
        int written = 1 + VarInt.Write(destination[1..], (uint)bodyLength);
        written += VarInt.Write(destination[written..], flowId);
        destination[written++] = (byte)flags;
        return written;
    }

    /// <summary>
    /// Writes the header of an <see cref="OpenFlow"/> message whose <paramref name="payloadLength"/> payload
    /// bytes the caller copies right after it.
    /// </summary>
    /// <returns>Bytes written: <see cref="GetOpenFlowHeaderLength"/>, at most <see cref="MaxDataHeaderSize"/>.</returns>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/>: unknown flags, or a payload length
    /// negative or too large for the format.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the header.</exception>
    public static int WriteOpenFlowHeader(Span<byte> destination, ulong flowId, ulong initialCredit, DataFlags flags, int payloadLength)
    {
        ValidateFlags(flags);
        int fieldsLength = VarInt.GetLength(flowId) + VarInt.GetLength(initialCredit) + 1;
        int bodyLength = GetBodyLength(fieldsLength, payloadLength);
        int headerLength = 1 + VarInt.GetLength((uint)bodyLength) + fieldsLength;
        EnsureRoom(destination, headerLength);

        destination[0] = (byte)MessageType.OpenFlow;
        int written = 1 + VarInt.Write(destination[1..], (uint)bodyLength);
        written += VarInt.Write(destination[written..], flowId);
        written += VarInt.Write(destination[written..], initialCredit);
        destination[written++] = (byte)flags;
        return written;
    }

    /// <summary>The length of the header <see cref="WriteDataHeader"/> writes for these values.</summary>
    public static int GetDataHeaderLength(ulong flowId, int payloadLength)
    {
        int fieldsLength = VarInt.GetLength(flowId) + 1;
        return 1 + VarInt.GetLength((uint)GetBodyLength(fieldsLength, payloadLength)) + fieldsLength;
    }

    /// <summary>The length of the header <see cref="WriteOpenFlowHeader"/> writes for these values.</summary>
    public static int GetOpenFlowHeaderLength(ulong flowId, ulong initialCredit, int payloadLength)
    {
        int fieldsLength = VarInt.GetLength(flowId) + VarInt.GetLength(initialCredit) + 1;
        return 1 + VarInt.GetLength((uint)GetBodyLength(fieldsLength, payloadLength)) + fieldsLength;
    }

    internal static void ValidateFlags(DataFlags flags)
    {
        if ((flags & ~KnownDataFlags) != 0)
        {
            MessageErrors.ThrowInvalid($"unknown data flags 0x{(byte)flags:x2}.");
        }
    }

    private static int GetBodyLength(int fieldsLength, int payloadLength)
    {
        if ((uint)payloadLength > (uint)(MaxBodyLength - fieldsLength))
        {
            MessageErrors.ThrowInvalid($"payload length {payloadLength} is negative or too large.");
        }

        return fieldsLength + payloadLength;
    }

    private static void EnsureRoom(Span<byte> destination, int headerLength)
    {
        if (destination.Length < headerLength)
        {
            ThrowDestinationTooSmall(headerLength, nameof(destination));
        }
    }

    [DoesNotReturn]
    private static void ThrowDestinationTooSmall(int headerLength, string paramName)
        => throw new ArgumentException($"The destination needs {headerLength} bytes for the header.", paramName);

    [DoesNotReturn]
    private static void ThrowBadBodyLength(VarIntStatus status, int maxMessageSize)
    {
        if (status == VarIntStatus.AboveLimit)
        {
            MessageErrors.ThrowMalformed($"declared body length exceeds the limit of {maxMessageSize} bytes.");
        }

        MessageErrors.ThrowMalformedVarInt(status, "body length");
    }
}
