using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>What a pin should keep connected: the remote, the blessings it must present (none: anyone), the channel timeout.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.PinRequest")]
public sealed record PinRequest(
    [property: Id(0)] Endpoint Endpoint,
    [property: Id(1)] IReadOnlyList<string> BlessingPatterns,
    [property: Id(2)] TimeSpan ChannelTimeout);
