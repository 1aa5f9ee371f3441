namespace FlowOrleans.Transport.Connections;

/// <summary>Versions of the flow wire protocol this build speaks (docs/architecture.md describes version 1).</summary>
public static class ProtocolVersions
{
    public const ushort Min = 1;
    public const ushort Max = 1;

    /// <summary>The highest version both ranges contain, or null when they do not overlap.</summary>
    public static ushort? Negotiate(ushort localMin, ushort localMax, ushort remoteMin, ushort remoteMax)
    {
        var high = Math.Min(localMax, remoteMax);
        var low = Math.Max(localMin, remoteMin);
        return high >= low ? high : null;
    }
}
