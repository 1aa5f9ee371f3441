using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Grains;

/// <summary>
/// Registrations of silos that hold a connection to one routing ID, one per silo and peer key (a routing ID is only an
/// address: an impostor claiming it has another key, and never replaces the real peer's registration). Kept in grain
/// storage so a registration survives this grain moving. Membership removes dead silos' registrations
/// (<see cref="SiloRoutesGrain"/>); lookups also skip silos that are not active, for the moments between a death and its purge.
/// </summary>
internal sealed class RoutingIdGrain(
    [PersistentState("routes", FlowStorageNames.Default)] IPersistentState<RoutingIdState> state,
    IClusterMembershipService membership,
    TimeProvider time) : Grain, IRoutingIdGrain
{
    public Task RegisterAsync(string siloKey, RoutingIdPeer peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(siloKey);
        ArgumentNullException.ThrowIfNull(peer);
        var registration = new RoutingIdRegistration(siloKey, peer.Endpoints.ToArray(), time.GetUtcNow())
        {
            PeerKey = peer.PublicKey,
            BlessingNames = peer.BlessingNames.ToArray(),
        };
        return state.UpdateAsync(s =>
        {
            s.Registrations[RoutingIdState.KeyOf(siloKey, peer.PublicKey)] = registration;
            return true;
        });
    }

    public Task UnregisterAsync(string siloKey, string? peerKey) => state.UpdateAsync(s =>
    {
        var gone = s.Registrations.Where(r => r.Value.SiloKey == siloKey && (peerKey is null || r.Value.PeerKey == peerKey)).Select(r => r.Key).ToArray();
        foreach (var key in gone)
        {
            s.Registrations.Remove(key);
        }

        return gone.Length > 0;
    });

    public Task<IReadOnlyList<RoutingIdRegistration>> LookupAsync(IReadOnlyList<string> blessingPatterns)
    {
        ArgumentNullException.ThrowIfNull(blessingPatterns);
        var patterns = blessingPatterns.Select(BlessingPattern.Parse).ToArray();
        var snapshot = membership.CurrentSnapshot;
        IReadOnlyList<RoutingIdRegistration> live = state.State.Registrations.Values
            .Where(r => SiloKeys.TryParse(r.SiloKey, out var silo) && snapshot.GetSiloStatus(silo) == SiloStatus.Active)
            .Where(r => patterns.Length == 0 || patterns.Any(p => p.MatchesAny(r.BlessingNames)))
            .OrderByDescending(r => r.RegisteredAt)
            .ToArray();
        return Task.FromResult(live);
    }
}
