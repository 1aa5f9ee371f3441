using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>The names of every pin, persisted so pins can be listed and re-checked after any silo left.</summary>
internal sealed class PinIndexGrain(
    [PersistentState("pins", FlowStorageNames.Default)] IPersistentState<PinIndexState> state) : Grain, IPinIndexGrain
{
    public async Task AddAsync(string name)
    {
        if (state.State.Names.Add(name))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task RemoveAsync(string name)
    {
        if (state.State.Names.Remove(name))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Names.Order(StringComparer.Ordinal).ToArray());
}
