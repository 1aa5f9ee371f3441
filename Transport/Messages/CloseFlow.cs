namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Aborts one flow (a reset): unlike <see cref="Data"/> with <see cref="DataFlags.Close"/>, which ends the
/// sender's half after delivering everything, this discards the flow in both directions.
/// </summary>
public sealed record CloseFlow(ulong FlowId, string Reason) : Message
{
    internal override MessageType Type => MessageType.CloseFlow;
}
