namespace FlowOrleans.Grains;

/// <summary>Persistent state of a <see cref="SiloRoutesGrain"/>: the routing IDs its silo registered.</summary>
[GenerateSerializer, Alias("FlowOrleans.SiloRoutesState")]
internal sealed class SiloRoutesState
{
    [Id(0)]
    public HashSet<string> RoutingIds { get; set; } = new(StringComparer.Ordinal);
}
