using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// A named pinned connection of the cluster (key: the pin name). Keeps its desired state in storage, has one live
/// silo hold the pin, and moves it when that silo leaves; a reminder brings it back after every silo restarted.
/// A pin belongs to the owner capability that created it: only that owner can change or remove it.
/// </summary>
[Alias("FlowOrleans.IPinnedConnectionGrain")]
public interface IPinnedConnectionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Sets what the pin keeps connected and pins it on a live silo now. A new name becomes <paramref name="owner"/>'s;
    /// an existing one must be <paramref name="owner"/>'s, else <see cref="Transport.FlowErrorCode.NotTrusted"/>.
    /// </summary>
    [Alias("Pin")]
    Task<PinState> PinAsync(PinRequest request, Capability owner);

    /// <summary>Removes the pin from every silo and forgets it; only its owner may. Idempotent for a name not pinned.</summary>
    [Alias("Unpin")]
    Task UnpinAsync(Capability owner);

    /// <summary>The pin's state; null if it is not pinned.</summary>
    [Alias("Get")]
    Task<PinState?> GetAsync();

    /// <summary>Checks the owner is alive and still holds the pin, re-pinning elsewhere if not.</summary>
    [Alias("Ensure")]
    Task<PinState?> EnsureAsync();

    /// <summary>
    /// Moves the pin off <paramref name="silo"/>, which is leaving, to another live silo, and returns once that silo holds
    /// it (or none could). A pin held elsewhere is only checked; with no other live silo the pin stays where it is.
    /// </summary>
    [Alias("MoveOff")]
    Task<PinState?> MoveOffAsync(string silo);
}
