namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Aborts one flow (a reset): unlike <see cref="Data"/> with <see cref="DataFlags.Close"/>, which ends the
/// sender's half after delivering everything, this discards the flow in both directions. A refusal of a flow the
/// peer opened says why in <see cref="Code"/> (<see cref="FlowErrorCode.BadState"/> for lame duck, limits and a full
/// backlog, <see cref="FlowErrorCode.NotTrusted"/> for a peer the acceptor does not admit); an abort of an open flow
/// carries <see cref="FlowErrorCode.Aborted"/>.
/// </summary>
public sealed record CloseFlow(ulong FlowId, string Reason) : Message
{
    /// <summary>The error the peer reports for the flow (a defined, non-zero <see cref="FlowErrorCode"/>).</summary>
    public FlowErrorCode Code { get; init; } = FlowErrorCode.Aborted;

    internal override MessageType Type => MessageType.CloseFlow;
}
