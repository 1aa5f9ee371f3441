using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.GrainInterfaces;

/// <summary>A persisted set of names kept by one grain.</summary>
[Alias("FlowOrleans.INameSetGrain")]
public interface INameSetGrain : IAddressable
{
    [Alias("Add"), SiloOnly]
    Task AddAsync(string name);

    [Alias("Remove"), SiloOnly]
    Task RemoveAsync(string name);

    /// <summary>The names in ordinal order.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}
