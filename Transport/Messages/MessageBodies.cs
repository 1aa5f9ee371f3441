using System.Buffers;
using System.Text;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// The body layout of each message type, in one place: measuring (which also validates), writing and
/// reading. The layouts are documented on <see cref="MessageCodec"/>; keep the three switches in step with it.
/// </summary>
internal static class MessageBodies
{
    // Bytes a list item takes at least: a Release credit is two varints, a string its length prefix.
    private const int MinCreditLength = 2;
    private const int MinStringLength = 1;

    /// <summary>
    /// Measures the body of <paramref name="message"/> and validates every field, so that
    /// <see cref="Write"/> cannot fail half-way through an output it has already advanced.
    /// </summary>
    public static int GetLength(Message message)
    {
        long length = message switch
        {
            Data m => FlagsLength(m.Flags) + VarInt.GetLength(m.FlowId) + m.Payload.Length,
            OpenFlow m => FlagsLength(m.Flags) + VarInt.GetLength(m.FlowId) + VarInt.GetLength(m.InitialCredit) + m.Payload.Length,
            Release m => CreditsLength(m.Credits),
            HealthCheckRequest m => VarInt.GetLength(m.Nonce),
            HealthCheckResponse m => VarInt.GetLength(m.Nonce),
            CloseFlow m => VarInt.GetLength(m.FlowId) + VarInt.GetLength(CodeValue(m.Code, nameof(CloseFlow))) + StringLength(m.Reason, nameof(CloseFlow.Reason)),
            Setup m => VarInt.GetLength(m.MinVersion)
                + VarInt.GetLength(m.MaxVersion)
                + BytesLength(m.EphemeralPublicKey)
                + StringLength(m.LocalEndpoint, nameof(Setup.LocalEndpoint))
                + StringLength(m.RemoteEndpoint, nameof(Setup.RemoteEndpoint))
                + VarInt.GetLength(m.Mtu)
                + VarInt.GetLength(m.SharedCredit)
                + BytesLength(m.Ciphers)
                + BytesLength(m.Nonce),
            Auth m => BytesLength(m.Blessings) + BytesLength(m.Discharges) + BytesLength(m.Signature),
            TearDown m => VarInt.GetLength(CodeValue(m.Code, nameof(TearDown))) + StringLength(m.Reason, nameof(TearDown.Reason)),
            ProxyResponse m => StringsLength(m.Endpoints),
            ProxyErrorResponse m => StringLength(m.Error, nameof(ProxyErrorResponse.Error)),
            EnterLameDuck or AckLameDuck or ProxyServerRequest or AuthAccepted => 0,
            _ => throw MessageErrors.Invalid($"unknown message type {message.GetType()}."),
        };

        if (length > MessageCodec.MaxBodyLength)
        {
            MessageErrors.ThrowInvalid($"{message.Type} body of {length} bytes is too large.");
        }

        return (int)length;
    }

    private static uint CodeValue(FlowErrorCode code, string message) =>
        code != 0 && Enum.IsDefined(code) ? (uint)code : throw MessageErrors.Invalid($"unknown error code {code} in {message}.");

    /// <summary>Writes the body of a message that <see cref="GetLength"/> has validated.</summary>
    public static void Write(ref MessageWriter writer, Message message)
    {
        switch (message)
        {
            case Data m:
                writer.WriteVarInt(m.FlowId);
                writer.WriteByte((byte)m.Flags);
                writer.WriteRaw(m.Payload);
                break;
            case OpenFlow m:
                writer.WriteVarInt(m.FlowId);
                writer.WriteVarInt(m.InitialCredit);
                writer.WriteByte((byte)m.Flags);
                writer.WriteRaw(m.Payload);
                break;
            case Release m:
                // Indexed loops here and below: foreach over an IReadOnlyList would allocate an enumerator.
                writer.WriteVarInt((uint)m.Credits.Count);
                for (int i = 0; i < m.Credits.Count; i++)
                {
                    FlowCredit credit = m.Credits[i];
                    writer.WriteVarInt(credit.FlowId);
                    writer.WriteVarInt(credit.Bytes);
                }

                break;
            case HealthCheckRequest m:
                writer.WriteVarInt(m.Nonce);
                break;
            case HealthCheckResponse m:
                writer.WriteVarInt(m.Nonce);
                break;
            case CloseFlow m:
                writer.WriteVarInt(m.FlowId);
                writer.WriteVarInt((uint)m.Code);
                WriteString(ref writer, m.Reason);
                break;
            case Setup m:
                writer.WriteVarInt(m.MinVersion);
                writer.WriteVarInt(m.MaxVersion);
                writer.WriteBytes(m.EphemeralPublicKey);
                WriteString(ref writer, m.LocalEndpoint);
                WriteString(ref writer, m.RemoteEndpoint);
                writer.WriteVarInt(m.Mtu);
                writer.WriteVarInt(m.SharedCredit);
                writer.WriteBytes(m.Ciphers);
                writer.WriteBytes(m.Nonce);
                break;
            case Auth m:
                writer.WriteBytes(m.Blessings);
                writer.WriteBytes(m.Discharges);
                writer.WriteBytes(m.Signature);
                break;
            case TearDown m:
                writer.WriteVarInt((uint)m.Code);
                WriteString(ref writer, m.Reason);
                break;
            case ProxyResponse m:
                writer.WriteVarInt((uint)m.Endpoints.Count);
                for (int i = 0; i < m.Endpoints.Count; i++)
                {
                    WriteString(ref writer, m.Endpoints[i]);
                }

                break;
            case ProxyErrorResponse m:
                WriteString(ref writer, m.Error);
                break;
            default:
                break; // Bodiless.
        }
    }

    /// <summary>Decodes a complete body; anything short, long or out of range is malformed.</summary>
    public static Message Read(MessageType type, in ReadOnlySequence<byte> body)
    {
        var reader = new BodyReader(body);
        Message message;
        switch (type)
        {
            case MessageType.Data:
                // The payload is the rest of the body, so there is nothing after it to check.
                return new Data(reader.ReadUInt64(nameof(Data.FlowId)), reader.ReadFlags(), reader.ReadToEnd());
            case MessageType.OpenFlow:
                return new OpenFlow(
                    reader.ReadUInt64(nameof(OpenFlow.FlowId)),
                    reader.ReadUInt64(nameof(OpenFlow.InitialCredit)),
                    reader.ReadFlags(),
                    reader.ReadToEnd());
            case MessageType.Release:
                message = new Release(ReadCredits(ref reader));
                break;
            case MessageType.HealthCheckRequest:
                message = new HealthCheckRequest(reader.ReadUInt64(nameof(HealthCheckRequest.Nonce)));
                break;
            case MessageType.HealthCheckResponse:
                message = new HealthCheckResponse(reader.ReadUInt64(nameof(HealthCheckResponse.Nonce)));
                break;
            case MessageType.CloseFlow:
                var flowId = reader.ReadUInt64(nameof(CloseFlow.FlowId));
                var closeCode = ReadCode(ref reader, nameof(CloseFlow));
                message = new CloseFlow(flowId, reader.ReadString(nameof(CloseFlow.Reason))) { Code = closeCode };
                break;
            case MessageType.Setup:
                message = new Setup(
                    reader.ReadUInt16(nameof(Setup.MinVersion)),
                    reader.ReadUInt16(nameof(Setup.MaxVersion)),
                    reader.ReadBytes(nameof(Setup.EphemeralPublicKey)),
                    reader.ReadString(nameof(Setup.LocalEndpoint)),
                    reader.ReadString(nameof(Setup.RemoteEndpoint)),
                    reader.ReadUInt32(nameof(Setup.Mtu)),
                    reader.ReadUInt64(nameof(Setup.SharedCredit)),
                    reader.ReadBytes(nameof(Setup.Ciphers)),
                    reader.ReadBytes(nameof(Setup.Nonce)));
                break;
            case MessageType.Auth:
                message = new Auth(
                    reader.ReadBytes(nameof(Auth.Blessings)),
                    reader.ReadBytes(nameof(Auth.Discharges)),
                    reader.ReadBytes(nameof(Auth.Signature)));
                break;
            case MessageType.TearDown:
                message = new TearDown(ReadCode(ref reader, nameof(TearDown)), reader.ReadString(nameof(TearDown.Reason)));
                break;
            case MessageType.ProxyResponse:
                message = new ProxyResponse(ReadStrings(ref reader));
                break;
            case MessageType.ProxyErrorResponse:
                message = new ProxyErrorResponse(reader.ReadString(nameof(ProxyErrorResponse.Error)));
                break;
            case MessageType.EnterLameDuck:
                message = EnterLameDuck.Instance;
                break;
            case MessageType.AckLameDuck:
                message = AckLameDuck.Instance;
                break;
            case MessageType.ProxyServerRequest:
                message = ProxyServerRequest.Instance;
                break;
            case MessageType.AuthAccepted:
                message = AuthAccepted.Instance;
                break;
            default:
                throw MessageErrors.Malformed($"unknown message type {(byte)type}.");
        }

        reader.EnsureEnd(type);
        return message;
    }

    private static FlowErrorCode ReadCode(ref BodyReader reader, string message)
    {
        var code = reader.ReadUInt32("Code");
        return code != 0 && Enum.IsDefined((FlowErrorCode)code)
            ? (FlowErrorCode)code
            : throw MessageErrors.Malformed($"unknown error code {code} in {message}.");
    }

    private static FlowCredit[] ReadCredits(ref BodyReader reader)
    {
        int count = reader.ReadCount(nameof(Release.Credits), MinCreditLength);
        if (count == 0)
        {
            MessageErrors.ThrowMalformed("Release carries no credits.");
        }

        var credits = new FlowCredit[count];
        for (int i = 0; i < credits.Length; i++)
        {
            credits[i] = new FlowCredit(reader.ReadUInt64(nameof(FlowCredit.FlowId)), reader.ReadUInt64(nameof(FlowCredit.Bytes)));
        }

        return credits;
    }

    private static string[] ReadStrings(ref BodyReader reader)
    {
        int count = reader.ReadCount(nameof(ProxyResponse.Endpoints), MinStringLength);
        if (count == 0)
        {
            return [];
        }

        var values = new string[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadString(nameof(ProxyResponse.Endpoints));
        }

        return values;
    }

    private static void WriteString(ref MessageWriter writer, string value)
        => writer.WriteString(value, MessageCodec.StrictUtf8.GetByteCount(value));

    private static int FlagsLength(DataFlags flags)
    {
        MessageCodec.ValidateFlags(flags);
        return 1;
    }

    private static long BytesLength(in ReadOnlySequence<byte> value)
        => VarInt.GetLength((ulong)value.Length) + value.Length;

    private static long StringLength(string? value, string field)
    {
        if (value is null)
        {
            MessageErrors.ThrowInvalid(field + " is null.");
        }

        int byteCount;
        try
        {
            byteCount = MessageCodec.StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            // A lone surrogate has no UTF-8 form; replacing it would silently change the string.
            throw MessageErrors.Invalid(field + " is not valid UTF-16.", e);
        }

        return VarInt.GetLength((uint)byteCount) + (long)byteCount;
    }

    private static long CreditsLength(IReadOnlyList<FlowCredit>? credits)
    {
        if (credits is null || credits.Count == 0)
        {
            MessageErrors.ThrowInvalid("Release needs at least one credit.");
        }

        long length = VarInt.GetLength((uint)credits.Count);
        for (int i = 0; i < credits.Count; i++)
        {
            FlowCredit credit = credits[i];
            length += VarInt.GetLength(credit.FlowId) + VarInt.GetLength(credit.Bytes);
        }

        return length;
    }

    private static long StringsLength(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            MessageErrors.ThrowInvalid("ProxyResponse endpoints are null.");
        }

        long length = VarInt.GetLength((uint)values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            length += StringLength(values[i], nameof(ProxyResponse.Endpoints));
        }

        return length;
    }
}
