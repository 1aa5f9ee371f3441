using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>The names of every pin, persisted so pins can be listed and re-checked after any silo left.</summary>
internal sealed class PinIndexGrain(
    [PersistentState("pins", FlowStorageNames.Default)] IPersistentState<NameSetState> state) : NameSetGrain(state), IPinIndexGrain;
