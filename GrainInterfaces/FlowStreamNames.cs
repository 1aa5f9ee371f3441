namespace FlowOrleans.GrainInterfaces;

/// <summary>Names shared by silos and clients for the streams that announce accepted flows.</summary>
public static class FlowStreamNames
{
    /// <summary>The stream provider silos and clients register by default.</summary>
    public const string DefaultProvider = "FlowStreams";

    /// <summary>The stream namespace of accept announcements; the stream key is the listening name.</summary>
    public const string AcceptNamespace = "flow-accept";

    /// <summary>The listening name a silo announces on unless configured otherwise.</summary>
    public const string DefaultListenName = "default";
}
