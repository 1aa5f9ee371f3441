namespace FlowOrleans.Grains.Placement;

/// <summary>
/// Places a grain on the silo its string key names (<see cref="GrainInterfaces.SiloKeys"/>), and nowhere else:
/// a silo-bound grain fronts state that exists only in that silo's process.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
internal sealed class SiloBoundPlacement : PlacementStrategy
{
    public static SiloBoundPlacement Instance { get; } = new();
}
