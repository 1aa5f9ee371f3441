using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>
/// Registrations of silos that hold a connection to one routing ID. Kept in grain storage so a registration survives
/// this grain moving; a silo that left the cluster loses its registrations the next time they are read, because a
/// dead silo cannot unregister for itself.
/// </summary>
internal sealed class RoutingIdGrain(
    [PersistentState("routes", FlowStorageNames.Default)] IPersistentState<RoutingIdState> state,
    IClusterMembershipService membership) : Grain, IRoutingIdGrain
{
    public async Task RegisterAsync(string siloKey, IReadOnlyList<string> endpoints)
    {
        ArgumentException.ThrowIfNullOrEmpty(siloKey);
        ArgumentNullException.ThrowIfNull(endpoints);
        state.State.Registrations[siloKey] = new RoutingIdRegistration(siloKey, endpoints.ToArray(), DateTimeOffset.UtcNow);
        await state.WriteStateAsync();
    }

    public async Task UnregisterAsync(string siloKey)
    {
        if (state.State.Registrations.Remove(siloKey))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task<IReadOnlyList<RoutingIdRegistration>> LookupAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        var gone = state.State.Registrations.Keys
            .Where(key => !SiloKeys.TryParse(key, out var silo) || snapshot.GetSiloStatus(silo) != SiloStatus.Active)
            .ToArray();
        if (gone.Length > 0)
        {
            foreach (var key in gone)
            {
                state.State.Registrations.Remove(key);
            }

            await state.WriteStateAsync();
        }

        return state.State.Registrations.Values.OrderByDescending(r => r.RegisteredAt).ToArray();
    }
}
