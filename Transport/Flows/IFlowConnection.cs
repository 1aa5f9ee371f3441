using System.Net;

namespace FlowOrleans.Transport.Flows;

/// <summary>
/// What a <see cref="Flow"/> needs from the connection that carries it: its metadata, what its receive window needs
/// (<see cref="IReceiveWindowHost"/>), and the send path. The connection implements it; a flow knows nothing else of it, which keeps flows apart
/// from the multiplexer's internals (and the <c>Flows</c> namespace free of <c>Connections</c>).
/// </summary>
internal interface IFlowConnection : IManagedConnection, IReceiveWindowHost
{
    /// <summary>The network address of the connection's peer (or proxy), when its protocol has one.</summary>
    EndPoint? RemoteAddress { get; }

    /// <summary>
    /// The lock guarding the receive half of flow <paramref name="flowId"/>. Flows share a few per connection (lock
    /// striping): a flow is held to a lock object of its own only at 40 bytes each, and no code holds two at once.
    /// </summary>
    Lock ReceiveLockFor(ulong flowId);

    /// <summary>Notes use of the connection (not called for side channels, which do not keep a connection busy).</summary>
    void Touch();

    /// <summary>Asks for a fresh RTT sample if the last one is old: called as flows return credit.</summary>
    void RefreshRttIfStale();

    /// <summary>Registers a write (or close) of <paramref name="flow"/>; false when there is nothing to wait for.</summary>
    bool BeginWrite(Flow flow, ReadOnlyMemory<byte> data, bool close);

    /// <summary>Gets registered writes moving: inline on the caller's thread when nobody else is writing.</summary>
    ValueTask KickWriterAsync();

    /// <summary>Ends a write after its wait: throws what went wrong, if anything.</summary>
    void EndWrite(Flow flow, CancellationToken cancellationToken);

    /// <summary>Cancels <paramref name="flow"/>'s pending write.</summary>
    void CancelWrite(Flow flow);

    void DisableFragmentation(Flow flow);

    /// <summary>Queues credit for the peer; the writer is woken for it only when <paramref name="wakeWriter"/>.</summary>
    void QueueRelease(Flow flow, long bytes, bool wakeWriter);

    /// <summary>
    /// The flow's acknowledgement, if it still waits to ride with a reply, goes out now: the application waits to read
    /// the flow, reached its end, or ran as far as it goes after accepting it without replying.
    /// </summary>
    void FlushAcknowledgement(Flow flow);

    /// <summary>Disposal is starting; false when the send half already failed, so closing it would only throw.</summary>
    bool PrepareDispose(Flow flow);

    /// <summary>
    /// Releases <paramref name="bytes"/> of the peer's debt on <paramref name="flow"/>, which the flow settled after the
    /// peer finished sending: the flow may have left the table meanwhile, and the release goes out all the same.
    /// </summary>
    void SettleDebt(Flow flow, long bytes);

    /// <summary>
    /// The application is done with the flow: stop the peer sending (a reset, unless the peer had finished sending when
    /// the flow dropped what it had buffered) and forget the flow. A peer that had finished gets the settled
    /// <paramref name="debt"/> released instead.
    /// </summary>
    void OnFlowDisposed(Flow flow, bool peerFinished, long debt);

    /// <summary>Aborts both halves of the flow and tells the peer.</summary>
    void AbortFlow(Flow flow, FlowException error);
}
