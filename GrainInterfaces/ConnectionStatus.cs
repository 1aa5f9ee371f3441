using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>One cached connection of a silo's flow manager.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.ConnectionStatus")]
public sealed record ConnectionStatus(
    [property: Id(0)] Endpoint RemoteEndpoint,
    [property: Id(1)] IReadOnlyList<string> RemoteBlessingNames,
    [property: Id(2)] TimeSpan Rtt,
    [property: Id(3)] long OpenFlows,
    [property: Id(4)] TimeSpan Age);
