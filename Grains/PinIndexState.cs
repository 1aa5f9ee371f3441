namespace FlowOrleans.Grains;

/// <summary>Persistent state of the <see cref="PinIndexGrain"/>.</summary>
[GenerateSerializer, Alias("FlowOrleans.PinIndexState")]
internal sealed class PinIndexState
{
    [Id(0)]
    public HashSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}
