namespace FlowOrleans.Transport.Messages;

/// <summary>Returns credit to the sender for bytes the receiver has consumed, on one or more flows.</summary>
public sealed record Release(IReadOnlyList<FlowCredit> Credits) : Message
{
    internal override MessageType Type => MessageType.Release;
}
