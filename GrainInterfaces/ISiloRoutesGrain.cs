namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// The routing IDs one silo (the key, <see cref="SiloKeys"/>) registered in <see cref="IRoutingIdGrain"/>s. A dead silo
/// cannot unregister for itself, so when membership declares it dead a surviving silo purges its registrations from
/// this index.
/// </summary>
[Alias("FlowOrleans.ISiloRoutesGrain")]
public interface ISiloRoutesGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(string name);

    [Alias("Remove")]
    Task RemoveAsync(string name);

    /// <summary>The routing IDs the silo registered; for status and tests.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();

    /// <summary>Drops the silo from every routing ID it registered, then forgets them. Idempotent.</summary>
    [Alias("Purge")]
    Task PurgeAsync();
}
