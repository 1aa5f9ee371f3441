using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>A silo holding a connection to a routing ID, and the peer's endpoints as that silo saw them.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.RoutingIdRegistration")]
public sealed record RoutingIdRegistration(
    [property: Id(0)] string SiloKey,
    [property: Id(1)] IReadOnlyList<Endpoint> Endpoints,
    [property: Id(2)] DateTimeOffset RegisteredAt);
