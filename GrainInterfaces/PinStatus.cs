namespace FlowOrleans.GrainInterfaces;

/// <summary>Where a pin stands in the cluster.</summary>
[GenerateSerializer, Alias("FlowOrleans.PinStatus")]
public enum PinStatus
{
    /// <summary>Desired, but no silo holds it yet.</summary>
    Pending = 0,

    /// <summary>A live silo keeps the connection up.</summary>
    Pinned = 1,

    /// <summary>The last attempt to pin failed; it is retried.</summary>
    Failed = 2,
}
