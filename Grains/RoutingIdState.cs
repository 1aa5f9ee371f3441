using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>Persistent state of a <see cref="RoutingIdGrain"/>: registrations by silo key.</summary>
[GenerateSerializer, Alias("FlowOrleans.RoutingIdState")]
internal sealed class RoutingIdState
{
    [Id(0)]
    public Dictionary<string, RoutingIdRegistration> Registrations { get; set; } = new(StringComparer.Ordinal);
}
