using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// A silo holding a connection to a routing ID: the peer's endpoints as that silo saw them, the key the peer proved
/// (<see cref="RoutingIdPeer.PublicKey"/>) and the blessing names the silo accepted.
/// </summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.RoutingIdRegistration")]
public sealed record RoutingIdRegistration(
    [property: Id(0)] string SiloKey,
    [property: Id(1)] IReadOnlyList<Endpoint> Endpoints,
    [property: Id(2)] DateTimeOffset RegisteredAt)
{
    /// <summary>Base64 of the peer's DER public key; empty in registrations stored before keys were recorded.</summary>
    [Id(3)]
    public string PeerKey { get; init; } = "";

    /// <summary>The peer's blessing names the registering silo's authorizer accepted.</summary>
    [Id(4)]
    public IReadOnlyList<string> BlessingNames { get; init; } = [];
}

/// <summary>The peer of a connection a silo registers: its endpoints, its key (base64 DER) and its accepted blessing names.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.RoutingIdPeer")]
public sealed record RoutingIdPeer(
    [property: Id(0)] IReadOnlyList<Endpoint> Endpoints,
    [property: Id(1)] string PublicKey,
    [property: Id(2)] IReadOnlyList<string> BlessingNames);
