using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.GrainInterfaces;

/// <summary>A flow a silo dialed for the caller: where it lives, and the capability every later use must present.</summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.HeldFlow")]
public sealed record HeldFlow([property: Id(0)] FlowHandle Handle, [property: Id(1)] Capability Capability)
{
    /// <summary>What the caller presents to read, write, renew or close the flow.</summary>
    public FlowGrant Grant => new(Handle.FlowId, Capability);

    public override string ToString() => $"HeldFlow {{ Handle = {Handle} }}";
}
