using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// The flow transport of one silo, reachable from grains and clients. The key is the silo's address
/// (<see cref="SiloKeys"/>); the activation always lives on that silo and calls fail once it has left the cluster.
/// Flow IDs name flows this silo's <c>FlowManager</c> holds for a caller: dialed ones, and accepted ones once claimed.
/// </summary>
[Alias("FlowOrleans.ISiloFlowGrain")]
public interface ISiloFlowGrain : IGrainWithStringKey
{
    /// <summary>Dials <paramref name="endpoint"/> from this silo and keeps the flow for the caller.</summary>
    [Alias("Dial")]
    Task<FlowHandle> DialAsync(Endpoint endpoint, TimeSpan channelTimeout, CancellationToken cancellationToken = default);

    /// <summary>Takes an accepted flow announced on the accept stream; false if another caller took it or it expired.</summary>
    [Alias("Claim")]
    Task<bool> ClaimAsync(Guid flowId);

    /// <summary>
    /// The flow's inbound bytes in chunks of at most 64 KiB, ending when the remote closes its side. The silo reads
    /// from the flow only as the caller consumes, so flow credit reaches the remote at the caller's pace.
    /// </summary>
    [Alias("Read")]
    IAsyncEnumerable<byte[]> ReadAsync(Guid flowId);

    /// <summary>Writes <paramref name="data"/> to the flow; completes once the flow accepted it (within its credit).</summary>
    [Alias("Write")]
    Task WriteAsync(Guid flowId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Closes the write side: the remote reads what was written, then end of stream.</summary>
    [Alias("CloseWrite")]
    Task CloseWriteAsync(Guid flowId, CancellationToken cancellationToken = default);

    /// <summary>Keeps the flows' leases (<see cref="FlowHandle.LeaseTimeout"/>) alive; returns the IDs this silo no longer holds.</summary>
    [Alias("Renew")]
    Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyList<Guid> flowIds);

    /// <summary>Closes the flow and forgets it. Idempotent.</summary>
    [Alias("Close")]
    Task CloseAsync(Guid flowId);

    /// <summary>Starts listening on <paramref name="address"/>; returns the new endpoint.</summary>
    [Alias("Listen")]
    Task<Endpoint> ListenAsync(ListenAddress address, CancellationToken cancellationToken = default);

    /// <summary>Listening endpoints, connections and open flows of this silo.</summary>
    [Alias("GetStatus")]
    Task<SiloFlowStatus> GetStatusAsync();

    /// <summary>Pins a connection under <paramref name="name"/> on this silo; the same name again keeps the existing pin.</summary>
    [Alias("Pin")]
    Task<SiloPin> PinAsync(string name, PinRequest request, CancellationToken cancellationToken = default);

    /// <summary>Unpins <paramref name="name"/> on this silo. Idempotent.</summary>
    [Alias("Unpin")]
    Task UnpinAsync(string name);

    /// <summary>The pin <paramref name="name"/> as this silo holds it, or null.</summary>
    [Alias("GetPin")]
    Task<SiloPin?> GetPinAsync(string name);
}
