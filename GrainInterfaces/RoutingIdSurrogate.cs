using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>Carries a <see cref="RoutingId"/> across grain calls as its two 64-bit halves.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.RoutingId")]
public readonly record struct RoutingIdSurrogate(
    [property: Id(0)] ulong High,
    [property: Id(1)] ulong Low);

/// <summary>Converts <see cref="RoutingId"/> to and from its surrogate for Orleans serialization.</summary>
[RegisterConverter]
public sealed class RoutingIdConverter : IConverter<RoutingId, RoutingIdSurrogate>
{
    public RoutingId ConvertFromSurrogate(in RoutingIdSurrogate surrogate) => new(surrogate.High, surrogate.Low);

    public RoutingIdSurrogate ConvertToSurrogate(in RoutingId value) => new(value.High, value.Low);
}
