using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Who accepts the flows announced under one listening name (the key). An application takes the name with its owner
/// capability and keeps it by renewing within the lease; only a holder of that capability can claim the name's flows,
/// and another application cannot take the name until the owner released it or let its lease run out.
/// </summary>
[Alias("FlowOrleans.IListenNameGrain")]
public interface IListenNameGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes or renews the name for <paramref name="owner"/>; returns how long the lease lasts without another renewal.
    /// Refused with <see cref="Transport.FlowErrorCode.NotTrusted"/> while another owner's lease runs.
    /// </summary>
    [Alias("Acquire")]
    Task<TimeSpan> AcquireAsync(Capability owner);

    /// <summary>Gives the name up if <paramref name="owner"/> holds it. Idempotent.</summary>
    [Alias("Release")]
    Task ReleaseAsync(Capability owner);

    /// <summary>True if <paramref name="owner"/> holds the name now.</summary>
    [Alias("IsOwner")]
    Task<bool> IsOwnerAsync(Capability owner);
}
