using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Which silos hold a live connection to one routing ID (the key, in hex), so any caller can reach a peer that
/// dialed in to some other silo. Silos register and unregister as connections open and close; registrations of a silo
/// that left the cluster are dropped when membership declares it dead (<see cref="ISiloRoutesGrain"/>), and lookups
/// never return them even before that.
/// </summary>
[Alias("FlowOrleans.IRoutingIdGrain")]
public interface IRoutingIdGrain : IGrainWithStringKey
{
    /// <summary>Records that <paramref name="siloKey"/> holds a connection whose remote endpoints are <paramref name="endpoints"/>.</summary>
    [Alias("Register")]
    Task RegisterAsync(string siloKey, IReadOnlyList<Endpoint> endpoints);

    /// <summary>Forgets the registration of <paramref name="siloKey"/>: its last connection closed, or it left the cluster. Idempotent.</summary>
    [Alias("Unregister")]
    Task UnregisterAsync(string siloKey);

    /// <summary>The live silos holding a connection to the routing ID, most recent registration first.</summary>
    [Alias("Lookup")]
    Task<IReadOnlyList<RoutingIdRegistration>> LookupAsync();
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
