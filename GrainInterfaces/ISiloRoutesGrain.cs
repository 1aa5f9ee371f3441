using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// The routing IDs one silo (the key, <see cref="SiloKeys"/>) registered in <see cref="IRoutingIdGrain"/>s. A dead silo
/// cannot unregister for itself, so when membership declares it dead a surviving silo purges its registrations from
/// this index.
/// </summary>
[Alias("FlowOrleans.ISiloRoutesGrain")]
public interface ISiloRoutesGrain : IGrainWithStringKey, INameSetGrain
{
    /// <summary>Drops the silo from every routing ID it registered, then forgets them. Idempotent.</summary>
    [Alias("Purge"), SiloOnly]
    Task PurgeAsync();
}
