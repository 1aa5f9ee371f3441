using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// A flow held by a silo for a caller: where it lives and who is on the other end. The silo closes the flow once no
/// one read, wrote or renewed it for <see cref="LeaseTimeout"/>, so a caller that vanished cannot leak it.
/// </summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.FlowHandle")]
public sealed record FlowHandle(
    [property: Id(0)] string SiloKey,
    [property: Id(1)] Guid FlowId,
    [property: Id(2)] Endpoint LocalEndpoint,
    [property: Id(3)] Endpoint RemoteEndpoint,
    [property: Id(4)] IReadOnlyList<string> RemoteBlessingNames,
    [property: Id(5)] TimeSpan LeaseTimeout);
