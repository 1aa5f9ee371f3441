using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Carries an <see cref="Endpoint"/> across grain calls in its printed v6 form, which parses back to an equal endpoint
/// (<see cref="Endpoint.Create"/> refuses what the form cannot carry), so grains take and return endpoints as
/// themselves and callers parse text once, at the edge.
/// </summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.Endpoint")]
public readonly record struct EndpointSurrogate([property: Id(0)] string Text);

/// <summary>Converts <see cref="Endpoint"/> to and from its surrogate for Orleans serialization.</summary>
[RegisterConverter]
public sealed class EndpointConverter : IConverter<Endpoint, EndpointSurrogate>
{
    public Endpoint ConvertFromSurrogate(in EndpointSurrogate surrogate) => Endpoint.Parse(surrogate.Text);

    public EndpointSurrogate ConvertToSurrogate(in Endpoint value) => new(value.ToString());
}
