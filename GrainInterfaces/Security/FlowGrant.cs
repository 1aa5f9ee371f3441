namespace FlowOrleans.GrainInterfaces.Security;

/// <summary>
/// What a caller presents to use one flow a silo holds: its flow ID and the capability the silo returned when the caller
/// dialed or claimed it. A flow ID alone is public (announcements carry it); without the capability it opens nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.FlowGrant")]
public readonly record struct FlowGrant([property: Id(0)] Guid FlowId, [property: Id(1)] Capability Capability)
{
    public override string ToString() => $"flow {FlowId}";
}
