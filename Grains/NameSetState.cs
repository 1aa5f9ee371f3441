namespace FlowOrleans.Grains;

/// <summary>Persistent state of a <see cref="NameSetGrain"/>.</summary>
[GenerateSerializer, Alias("FlowOrleans.NameSetState")]
internal sealed class NameSetState
{
    [Id(0)]
    public HashSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}
