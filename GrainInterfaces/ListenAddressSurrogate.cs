using FlowOrleans.Transport.Manager;

namespace FlowOrleans.GrainInterfaces;

/// <summary>Carries a <see cref="ListenAddress"/> across grain calls.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.ListenAddress")]
public readonly record struct ListenAddressSurrogate(
    [property: Id(0)] string Protocol,
    [property: Id(1)] string Address);

/// <summary>Converts <see cref="ListenAddress"/> to and from its surrogate for Orleans serialization.</summary>
[RegisterConverter]
public sealed class ListenAddressConverter : IConverter<ListenAddress, ListenAddressSurrogate>
{
    public ListenAddress ConvertFromSurrogate(in ListenAddressSurrogate surrogate) => new(surrogate.Protocol, surrogate.Address);

    public ListenAddressSurrogate ConvertToSurrogate(in ListenAddress value) => new(value.Protocol, value.Address);
}
