using System.Buffers;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// The first message each side sends, in plaintext: the protocol versions it speaks, its ephemeral key
/// for the key exchange, the endpoints as it sees them, its frame size, the credit it grants for flows
/// the peer has not yet been told about, the ciphers it accepts (one byte per cipher id), and a nonce.
/// </summary>
public sealed record Setup(
    ushort MinVersion,
    ushort MaxVersion,
    ReadOnlySequence<byte> EphemeralPublicKey,
    string LocalEndpoint,
    string RemoteEndpoint,
    uint Mtu,
    ulong SharedCredit,
    ReadOnlySequence<byte> Ciphers,
    ReadOnlySequence<byte> Nonce) : Message
{
    internal override MessageType Type => MessageType.Setup;
}
