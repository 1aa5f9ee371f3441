using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// Decides, during a handshake, whether the peer may be talked to, and which blessings to show it.
/// The dialer's authorizer judges the acceptor; the acceptor's judges the dialer.
/// </summary>
public interface IPeerAuthorizer
{
    /// <summary>
    /// Returns the peer's accepted blessing names, or throws <see cref="FlowException"/> with
    /// <see cref="FlowErrorCode.NotTrusted"/> (or <see cref="FlowErrorCode.Auth"/>) to refuse the peer.
    /// </summary>
    ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The blessings and discharges to present to a peer known by <paramref name="peerBlessingNames"/>: for a dialer,
    /// the acceptor's names its own <see cref="AuthorizePeerAsync"/> accepted, so it can choose what to reveal to whom;
    /// for an acceptor, which speaks first, none. The peer sees exactly what is returned as its remote blessings and
    /// discharges, except that empty blessings are presented as the principal's nameless ones (its key alone). A
    /// connection calls it again, with the peer's accepted names, when it refreshes its discharges.
    /// </summary>
    (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames);
}

/// <summary>What an authorizer sees of a peer whose signature over the handshake already checked out.</summary>
public sealed record PeerAuthorizationContext(
    Endpoint LocalEndpoint,
    Endpoint RemoteEndpoint,
    Blessings RemoteBlessings,
    Discharges RemoteDischarges,
    DateTimeOffset Now);

/// <summary>The verdict on a peer: the names it was accepted under and the names that were rejected, with why.</summary>
public sealed record PeerAuthorization(IReadOnlyList<string> AcceptedNames, IReadOnlyList<RejectedBlessing> Rejected);
