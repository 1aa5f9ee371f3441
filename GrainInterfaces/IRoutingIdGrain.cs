using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Which silos hold a live connection to one routing ID (the key, in hex), so any caller can reach a peer that
/// dialed in to some other silo. Silos register and unregister as connections open and close; registrations of a silo
/// that left the cluster are dropped when membership declares it dead (<see cref="ISiloRoutesGrain"/>), and lookups
/// never return them even before that. A routing ID is an address, not an identity: each registration names the key
/// the peer proved in its handshake and the blessing names the silo accepted, and a lookup can require patterns.
/// Only silos register (<see cref="SiloOnlyAttribute"/>).
/// </summary>
[Alias("FlowOrleans.IRoutingIdGrain")]
public interface IRoutingIdGrain : IGrainWithStringKey
{
    /// <summary>Records that <paramref name="siloKey"/> holds a connection to <paramref name="peer"/>.</summary>
    [Alias("Register"), SiloOnly]
    Task RegisterAsync(string siloKey, RoutingIdPeer peer);

    /// <summary>
    /// Forgets what <paramref name="siloKey"/> registered for the peer key <paramref name="peerKey"/> (its last connection
    /// to that peer closed), or everything it registered when <paramref name="peerKey"/> is null (it left the cluster).
    /// Idempotent.
    /// </summary>
    [Alias("Unregister"), SiloOnly]
    Task UnregisterAsync(string siloKey, string? peerKey);

    /// <summary>
    /// The live silos holding a connection to the routing ID whose peer was accepted under a name matching one of
    /// <paramref name="blessingPatterns"/> (none: every registration), most recent registration first.
    /// </summary>
    [Alias("Lookup")]
    Task<IReadOnlyList<RoutingIdRegistration>> LookupAsync(IReadOnlyList<string> blessingPatterns);
}

/// <summary>Typed access to <see cref="IRoutingIdGrain"/>, whose key is the routing ID's hex form.</summary>
public static class RoutingIdGrainFactoryExtensions
{
    public static IRoutingIdGrain GetRoutingIdGrain(this IGrainFactory grains, RoutingId routingId)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetGrain<IRoutingIdGrain>(routingId.ToString());
    }
}
