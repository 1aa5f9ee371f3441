using System.Buffers;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// A side's credentials, sent encrypted once the key exchange is done: its blessings and discharges
/// (encoded by Security) and its signature over the handshake transcript, which binds them to this channel.
/// </summary>
public sealed record Auth(
    ReadOnlySequence<byte> Blessings,
    ReadOnlySequence<byte> Discharges,
    ReadOnlySequence<byte> Signature) : Message
{
    internal override MessageType Type => MessageType.Auth;
}
