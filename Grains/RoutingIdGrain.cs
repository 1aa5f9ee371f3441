using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Grains;

/// <summary>
/// Registrations of silos that hold a connection to one routing ID. Kept in grain storage so a registration survives
/// this grain moving. Membership removes dead silos' registrations (<see cref="SiloRoutesGrain"/>); lookups also skip
/// silos that are not active, for the moments between a death and its purge.
/// </summary>
internal sealed class RoutingIdGrain(
    [PersistentState("routes", FlowStorageNames.Default)] IPersistentState<RoutingIdState> state,
    IClusterMembershipService membership,
    TimeProvider time) : Grain, IRoutingIdGrain
{
    public Task RegisterAsync(string siloKey, IReadOnlyList<Endpoint> endpoints)
    {
        ArgumentException.ThrowIfNullOrEmpty(siloKey);
        ArgumentNullException.ThrowIfNull(endpoints);
        var registration = new RoutingIdRegistration(siloKey, endpoints.ToArray(), time.GetUtcNow());
        return state.UpdateAsync(s =>
        {
            s.Registrations[siloKey] = registration;
            return true;
        });
    }

    public Task UnregisterAsync(string siloKey) => state.UpdateAsync(s => s.Registrations.Remove(siloKey));

    public Task<IReadOnlyList<RoutingIdRegistration>> LookupAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        IReadOnlyList<RoutingIdRegistration> live = state.State.Registrations.Values
            .Where(r => SiloKeys.TryParse(r.SiloKey, out var silo) && snapshot.GetSiloStatus(silo) == SiloStatus.Active)
            .OrderByDescending(r => r.RegisteredAt)
            .ToArray();
        return Task.FromResult(live);
    }
}
