using System.Buffers;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Opens flow <paramref name="FlowId"/>, grants the peer <paramref name="InitialCredit"/> bytes for its
/// replies, and carries the flow's first bytes. The payload is the rest of the body, so it needs no length.
/// </summary>
public sealed record OpenFlow(
    ulong FlowId,
    ulong InitialCredit,
    DataFlags Flags,
    ReadOnlySequence<byte> Payload) : Message
{
    internal override MessageType Type => MessageType.OpenFlow;
}
