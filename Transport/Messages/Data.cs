using System.Buffers;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Bytes of an open flow: the hot path. The payload is the rest of the body, so its header can be
/// written before the payload is copied (<see cref="MessageCodec.WriteDataHeader"/>) and decoding slices it.
/// </summary>
public sealed record Data(ulong FlowId, DataFlags Flags, ReadOnlySequence<byte> Payload) : Message
{
    internal override MessageType Type => MessageType.Data;
}
