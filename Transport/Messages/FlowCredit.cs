namespace FlowOrleans.Transport.Messages;

/// <summary>Bytes of receive buffer a peer frees on one flow, returned to the sender as new credit.</summary>
public readonly record struct FlowCredit(ulong FlowId, ulong Bytes);
