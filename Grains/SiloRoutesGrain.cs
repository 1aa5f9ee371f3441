using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>
/// The routing IDs one silo registered. Its own silo adds and removes them beside each registration; a surviving silo
/// purges them when membership declares the silo dead. Purging calls <see cref="IRoutingIdGrain.DropSiloAsync"/>,
/// which never calls back, so the two grains cannot deadlock on each other.
/// </summary>
internal sealed class SiloRoutesGrain(
    [PersistentState("silo-routes", FlowStorageNames.Default)] IPersistentState<SiloRoutesState> state) : Grain, ISiloRoutesGrain
{
    public Task AddAsync(string routingId) => state.UpdateAsync(s => s.RoutingIds.Add(routingId));

    public Task RemoveAsync(string routingId) => state.UpdateAsync(s => s.RoutingIds.Remove(routingId));

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.RoutingIds.Order(StringComparer.Ordinal).ToArray());

    public async Task PurgeAsync()
    {
        var silo = this.GetPrimaryKeyString();
        await Task.WhenAll(state.State.RoutingIds.Select(id => GrainFactory.GetGrain<IRoutingIdGrain>(id).DropSiloAsync(silo)));
        if (state.RecordExists)
        {
            await state.ClearAsync();
        }

        state.State = new SiloRoutesState();
        DeactivateOnIdle();
    }
}
