using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>A pin as one silo's transport holds it.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.SiloPin")]
public sealed record SiloPin(
    [property: Id(0)] string Name,
    [property: Id(1)] Endpoint Endpoint,
    [property: Id(2)] Endpoint RemoteEndpoint,
    [property: Id(3)] int Reconnects,
    [property: Id(4)] TimeSpan Rtt);
