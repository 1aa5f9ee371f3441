namespace FlowOrleans.GrainInterfaces;

/// <summary>The desired and observed state of one named pin.</summary>
[GenerateSerializer, Alias("FlowOrleans.PinState")]
public sealed class PinState
{
    [Id(0)]
    public string Name { get; set; } = "";

    [Id(1)]
    public PinRequest? Request { get; set; }

    /// <summary>Key of the silo that holds the pin; null while none does.</summary>
    [Id(2)]
    public string? OwnerSilo { get; set; }

    [Id(3)]
    public PinStatus Status { get; set; }

    [Id(4)]
    public string? LastError { get; set; }

    /// <summary>Reconnects of the connection on its owner plus moves to another owner.</summary>
    [Id(5)]
    public int Reconnects { get; set; }

    /// <summary>How many times the pin moved to another silo.</summary>
    [Id(6)]
    public int Moves { get; set; }

    [Id(7)]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// <see cref="Security.Capability.Digest"/> of the owner's capability. Grains keep it; callers get states without it,
    /// since a silo holding the pin accepts the digest as proof that the pin grain, which checked the owner, asks.
    /// </summary>
    [Id(8)]
    public string? OwnerDigest { get; set; }
}
