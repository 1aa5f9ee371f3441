using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>A snapshot of one silo's flow transport.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.SiloFlowStatus")]
public sealed record SiloFlowStatus(
    [property: Id(0)] string SiloKey,
    [property: Id(1)] RoutingId RoutingId,
    [property: Id(2)] IReadOnlyList<Endpoint> Endpoints,
    [property: Id(3)] IReadOnlyList<ConnectionStatus> Connections,
    [property: Id(4)] int OpenFlows,
    [property: Id(5)] IReadOnlyList<SiloPin> Pins);
