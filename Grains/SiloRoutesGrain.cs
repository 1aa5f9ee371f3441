using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>
/// The routing IDs one silo registered. Its own silo adds and removes them beside each registration; a surviving silo
/// purges them when membership declares the silo dead. Purging calls <see cref="IRoutingIdGrain.UnregisterAsync"/>,
/// which never calls back (silos keep this index themselves), so the two grains cannot deadlock on each other.
/// </summary>
internal sealed class SiloRoutesGrain(
    [PersistentState("silo-routes", FlowStorageNames.Default)] IPersistentState<NameSetState> state) : NameSetGrain(state), ISiloRoutesGrain
{
    public async Task PurgeAsync()
    {
        var silo = this.GetPrimaryKeyString();
        await Task.WhenAll(State.State.Names.Select(id => GrainFactory.GetGrain<IRoutingIdGrain>(id).UnregisterAsync(silo, null)));
        if (State.RecordExists)
        {
            await State.ClearAsync();
        }

        // No DeactivateOnIdle: calls arriving while an activation deactivates can be rejected ("forwarding failed"),
        // and an empty activation costs nothing until the idle collector takes it.
        State.State = new NameSetState();
    }
}
