using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>The names of every pin, persisted so pins can be listed and re-checked after any silo left.</summary>
internal sealed class PinIndexGrain(
    [PersistentState("pins", FlowStorageNames.Default)] IPersistentState<PinIndexState> state) : Grain, IPinIndexGrain
{
    public Task AddAsync(string name) => state.UpdateAsync(s => s.Names.Add(name));

    public Task RemoveAsync(string name) => state.UpdateAsync(s => s.Names.Remove(name));

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Names.Order(StringComparer.Ordinal).ToArray());
}
