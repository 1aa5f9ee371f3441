namespace FlowOrleans.Grains;

/// <summary>A persisted set of names (the cluster's pins, a silo's routing IDs), updated with ETag-checked writes.</summary>
internal abstract class NameSetGrain(IPersistentState<NameSetState> state) : Grain
{
    protected IPersistentState<NameSetState> State { get; } = state;

    public Task AddAsync(string name) => State.UpdateAsync(s => s.Names.Add(name));

    public Task RemoveAsync(string name) => State.UpdateAsync(s => s.Names.Remove(name));

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>(State.State.Names.Order(StringComparer.Ordinal).ToArray());
}
