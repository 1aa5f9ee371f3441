using System.Globalization;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>How one real side of an attacked handshake must end.</summary>
internal enum Ending
{
    /// <summary>The handshake fails with one of the codes.</summary>
    Fails,

    /// <summary>
    /// The handshake fails with the other side's code, which that side sent in its TearDown; with Network when the other
    /// side failed with Network (it sends no TearDown then: it cannot know the peer would read it).
    /// </summary>
    EchoesPeer,

    /// <summary>
    /// The handshake succeeds (this side cannot tell its last message was lost), then the connection closes with Network;
    /// or it fails with Network, when the peer hung up before this side's last message was written (the two race).
    /// </summary>
    ConnectsThenCloses,

    /// <summary>The attack plays this side itself.</summary>
    Played,
}

/// <summary>An expected ending and, for <see cref="Ending.Fails"/>, the codes allowed and words the reason must hold.</summary>
internal sealed record Expect(Ending Ending, FlowErrorCode[] Codes, string? ReasonHolds = null)
{
    public static readonly Expect EchoesPeer = new(Ending.EchoesPeer, []);

    public static readonly Expect ConnectsThenCloses = new(Ending.ConnectsThenCloses, []);

    public static readonly Expect Played = new(Ending.Played, []);

    public static Expect Fails(params FlowErrorCode[] codes) => new(Ending.Fails, codes);

    public override string ToString() => Ending == Ending.Fails
        ? string.Join("|", Codes) + (ReasonHolds is null ? "" : $" \"{ReasonHolds}\"")
        : Ending.ToString();
}

/// <summary>
/// One attack on a handshake: what the attacker does on the wire (<see cref="Script"/>, over an <see cref="AttackLink"/>)
/// and how each real side must end. By default the dialer is <see cref="AttackIdentities.Client"/> dialing the
/// acceptor's endpoint (so it checks the acceptor's routing ID) and requiring root:server, and the acceptor is
/// <see cref="AttackIdentities.Server"/> requiring root:client.
/// </summary>
internal sealed record HandshakeAttack(string Family, string Name, Expect Dialer, Expect Acceptor, Func<AttackLink, CancellationToken, Task> Script)
{
    public Principal DialerPrincipal { get; init; } = AttackIdentities.Client;

    public Principal AcceptorPrincipal { get; init; } = AttackIdentities.Server;

    /// <summary>Whether the dialer dials the acceptor's routing ID (and so refuses any other), as a dial by endpoint does.</summary>
    public bool DialerExpectsRoutingId { get; init; } = true;

    public Expect For(Side side) => side == Side.Dialer ? Dialer : Acceptor;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Family}: {Name}");
}

/// <summary>The frames each side sent in a clean handshake: dialer Setup and Auth; acceptor Setup, Auth and AuthAccepted.</summary>
internal sealed record HandshakeRecording(IReadOnlyList<byte[]> Dialer, IReadOnlyList<byte[]> Acceptor)
{
    public IReadOnlyList<byte[]> Of(Side side) => side == Side.Dialer ? Dialer : Acceptor;
}
