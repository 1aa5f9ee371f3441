using System.Diagnostics;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Endpoints;
using Tags = FlowOrleans.Transport.Diagnostics.TransportTelemetry.Tags;

namespace FlowOrleans.Grains.Diagnostics;

/// <summary>
/// Spans of the grain verbs, one per call (never per flow read or write). While nobody listens the source hands out
/// null and these helpers do nothing. The silo's own verbs are <c>flow.silo.*</c>; the cluster-wide pin grain's are
/// <c>flow.cluster.*</c>, the parents of the <c>flow.silo.pin</c> spans of the silo it picks.
/// </summary>
internal static class ClusterActivities
{
    public static readonly ActivitySource Source = new(ClusterTelemetry.ActivitySourceName, typeof(ClusterActivities).Assembly.GetName().Version?.ToString());

    // Span names.
    public const string SiloDial = "flow.silo.dial";
    public const string SiloClaim = "flow.silo.claim";
    public const string SiloPin = "flow.silo.pin";
    public const string SiloUnpin = "flow.silo.unpin";
    public const string ClusterPin = "flow.cluster.pin";
    public const string ClusterUnpin = "flow.cluster.unpin";

    // Tags of the cluster (the transport's are in <c>TransportTelemetry.Tags</c>).
    public const string Silo = "flow.silo";
    public const string FlowId = "flow.id";
    public const string ListenName = "flow.listen.name";
    public const string Claimed = "flow.claim.granted";
    public const string PinName = "flow.pin.name";
    public const string PinOwnerSilo = "flow.pin.owner_silo";
    public const string PinStatus = "flow.pin.status";

    /// <summary>A span of the silo <paramref name="siloKey"/>, or null if nobody listens.</summary>
    public static Activity? StartSilo(string name, string siloKey, RoutingId local)
    {
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Silo, siloKey);
            activity.SetTag(Tags.LocalRoutingId, local.ToString());
        }

        return activity;
    }

    /// <summary>A span of the pin grain for pin <paramref name="pinName"/>.</summary>
    public static Activity? StartPin(string name, string pinName)
    {
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag(PinName, pinName);
        return activity;
    }

    /// <summary>Where the verb goes: the remote the caller named.</summary>
    public static void SetRemote(Activity? activity, Endpoint remote)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.RemoteEndpoint, remote.ToString());
            if (!remote.RoutingId.IsNull)
            {
                activity.SetTag(Tags.RemoteRoutingId, remote.RoutingId.ToString());
            }
        }
    }

    /// <summary>The flow the verb made or took, and who the peer proved to be.</summary>
    public static void SetFlow(Activity? activity, FlowHandle handle)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(FlowId, handle.FlowId.ToString());
            activity.SetTag(Tags.RemoteRoutingId, handle.RemoteEndpoint.RoutingId.ToString());
            if (handle.RemoteBlessingNames.Count > 0)
            {
                activity.SetTag(Tags.RemoteBlessings, handle.RemoteBlessingNames.ToArray());
            }
        }
    }

    /// <summary>Where the pin stands after the verb.</summary>
    public static void SetPinState(Activity? activity, PinState state)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(PinOwnerSilo, state.OwnerSilo);
            activity.SetTag(PinStatus, state.Status.ToString());
        }
    }
}
