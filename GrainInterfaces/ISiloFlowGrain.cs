using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// The flow transport of one silo, reachable from grains and clients. The key is the silo's address
/// (<see cref="SiloKeys"/>); the activation always lives on that silo and calls fail once it has left the cluster.
/// Flows this silo's <c>FlowManager</c> holds for a caller (dialed ones, and accepted ones once claimed) are used with a
/// <see cref="FlowGrant"/>: the flow ID and the capability the caller got when it dialed or claimed the flow. What a
/// caller may ask the silo to dial or listen on passes the silo's policy first (<c>FlowOrleans:Policy</c>).
/// </summary>
[Alias("FlowOrleans.ISiloFlowGrain")]
public interface ISiloFlowGrain : IGrainWithStringKey
{
    /// <summary>
    /// Dials <paramref name="endpoint"/> from this silo and keeps the flow for the caller. The peer must present a blessing
    /// matching one of <paramref name="blessingPatterns"/>; none means the silo's configured default.
    /// </summary>
    [Alias("Dial")]
    Task<HeldFlow> DialAsync(Endpoint endpoint, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes an accepted flow announced on the accept stream for the holder of its listening name
    /// (<see cref="IListenNameGrain"/>): returns the flow's capability, or null if another caller took it, it expired,
    /// or <paramref name="listenOwner"/> does not hold the name.
    /// </summary>
    [Alias("Claim")]
    Task<Capability?> ClaimAsync(Guid flowId, Capability listenOwner);

    /// <summary>
    /// Dials <paramref name="endpoint"/> from this silo like <see cref="DialAsync"/>, but only over a connection the silo
    /// already caches whose peer <paramref name="blessingPatterns"/> accept (Vanadium's <c>DialCached</c>): it never
    /// dials. None cached is <c>BadState</c>; only peers the patterns refuse is <c>NotTrusted</c>. Same policy as a dial.
    /// </summary>
    [Alias("DialCached")]
    Task<HeldFlow> DialCachedAsync(Endpoint endpoint, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// The flow's inbound bytes, one item a message as the remote wrote it (the Transport's message read: at most one
    /// frame, 64 KiB), ending when the remote closes its side. The silo reads from the flow only as the caller consumes,
    /// so flow credit reaches the remote at the caller's pace.
    /// </summary>
    [Alias("Read")]
    IAsyncEnumerable<byte[]> ReadAsync(FlowGrant flow);

    /// <summary>
    /// Writes <paramref name="data"/> to the flow; completes once the flow accepted it (within its credit). The silo reads
    /// the chunk into a pooled array (<see cref="FlowChunk"/>); memory and arrays convert to it.
    /// </summary>
    [Alias("Write")]
    Task WriteAsync(FlowGrant flow, FlowChunk data, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="message"/> as one message (the Transport's message write); returns the bytes written.</summary>
    [Alias("WriteMessage")]
    Task<int> WriteMessageAsync(FlowGrant flow, FlowChunk message, CancellationToken cancellationToken = default);

    /// <summary>Sends each later message of the flow as exactly one frame, so the remote reads the same boundaries.</summary>
    [Alias("DisableFragmentation")]
    Task DisableFragmentationAsync(FlowGrant flow);

    /// <summary>Closes the write side: the remote reads what was written, then end of stream.</summary>
    [Alias("CloseWrite")]
    Task CloseWriteAsync(FlowGrant flow, CancellationToken cancellationToken = default);

    /// <summary>Keeps the flows' leases (<see cref="FlowHandle.LeaseTimeout"/>) alive; returns the IDs this silo does not hold for the caller.</summary>
    [Alias("Renew")]
    Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyList<FlowGrant> flows);

    /// <summary>Closes the flow and forgets it, if the grant is the flow's. Idempotent.</summary>
    [Alias("Close")]
    Task CloseAsync(FlowGrant flow);

    /// <summary>Starts listening on <paramref name="address"/>; returns the new endpoint.</summary>
    [Alias("Listen")]
    Task<Endpoint> ListenAsync(ListenAddress address, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops every listener and proxy registration of this silo and puts every cached connection into lame duck (the
    /// Transport's <c>StopListeningAsync</c>): peers can no longer open flows to the silo, on new or cached connections,
    /// until something listens again. Silo-only: the listeners serve every application sharing the cluster.
    /// </summary>
    [Alias("StopListening"), SiloOnly]
    Task StopListeningAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Registers this silo's flow manager under <paramref name="name"/> with the proxy at <paramref name="proxy"/>, which
    /// must present a blessing matching <paramref name="blessingPatterns"/> (none: the silo's default); flows the proxy
    /// forwards are accepted and announced like any other. Returns the endpoint the registration listens on.
    /// Silo-only: it changes where the silo accepts flows for every application.
    /// </summary>
    [Alias("ProxyListen"), SiloOnly]
    Task<Endpoint> ProxyListenAsync(string name, Endpoint proxy, IReadOnlyList<string> blessingPatterns, CancellationToken cancellationToken = default);

    /// <summary>Listening endpoints, connections and open flows of this silo.</summary>
    [Alias("GetStatus")]
    Task<SiloFlowStatus> GetStatusAsync();

    /// <summary>
    /// Pins a connection under <paramref name="name"/> on this silo for the pin whose owner digest is
    /// <paramref name="ownerDigest"/>; the same name and endpoint again keeps the existing pin.
    /// </summary>
    [Alias("Pin"), SiloOnly]
    Task<SiloPin> PinAsync(string name, PinRequest request, string ownerDigest, CancellationToken cancellationToken = default);

    /// <summary>Unpins <paramref name="name"/> on this silo if it is held for <paramref name="ownerDigest"/>. Idempotent.</summary>
    [Alias("Unpin"), SiloOnly]
    Task UnpinAsync(string name, string ownerDigest);

    /// <summary>The pin <paramref name="name"/> as this silo holds it, or null.</summary>
    [Alias("GetPin"), SiloOnly]
    Task<SiloPin?> GetPinAsync(string name);
}
