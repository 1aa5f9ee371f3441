namespace FlowOrleans.Grains.Diagnostics;

/// <summary>
/// The name of the cluster's <see cref="System.Diagnostics.ActivitySource"/>: spans of the grain verbs (dial, claim,
/// pin, unpin), children of Orleans' grain-call spans when activity propagation is on (<c>AddActivityPropagation()</c>
/// on silo and client), so a client's call and the silo's work join in one trace.
/// </summary>
public static class ClusterTelemetry
{
    public const string ActivitySourceName = "FlowOrleans.Cluster";
}
