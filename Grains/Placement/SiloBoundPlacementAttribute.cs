using Orleans.Placement;

namespace FlowOrleans.Grains.Placement;

/// <summary>Marks a grain class as bound to the silo named by its key.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloBoundPlacementAttribute : PlacementAttribute
{
    public SiloBoundPlacementAttribute()
        : base(SiloBoundPlacement.Instance)
    {
    }
}
