using System.Diagnostics;
using FlowOrleans.Transport.Endpoints;
using Tags = FlowOrleans.Transport.Diagnostics.TransportTelemetry.Tags;

namespace FlowOrleans.Transport.Diagnostics;

/// <summary>
/// The transport's spans: one per dial (a flow asked of the manager), per handshake (either side) and per accepted
/// connection, never per flow message or record. <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null while nobody listens, and every helper here takes that null and does nothing, so an untraced process
/// pays one check per dial or connection. Tags are set only when the span records them
/// (<see cref="Activity.IsAllDataRequested"/>): formatting endpoints costs more than the span.
/// </summary>
internal static class FlowActivities
{
    public static readonly ActivitySource Source = new(TransportTelemetry.ActivitySourceName, typeof(FlowActivities).Assembly.GetName().Version?.ToString());

    // Span names.
    public const string Dial = "flow.dial";
    public const string Handshake = "flow.handshake";
    public const string Accept = "flow.accept";

    /// <summary>Values of <see cref="Tags.DialKind"/>.</summary>
    public static class DialKinds
    {
        public const string Dial = "dial";
        public const string Cached = "cached";
        public const string RoutingId = "routing_id";

        /// <summary>Cached: only connections held now; routing ID: an endpoint without an address, reached that way too.</summary>
        public static string Of(Endpoint remote, bool cachedOnly) =>
            cachedOnly ? Cached : remote.IsAddressless ? RoutingId : Dial;
    }

    /// <summary>A dial span for <paramref name="remote"/> from the manager <paramref name="local"/>, or null if nobody listens.</summary>
    public static Activity? StartDial(string kind, RoutingId local, Endpoint remote)
    {
        var activity = Source.StartActivity(Dial, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.DialKind, kind);
            activity.SetTag(Tags.LocalRoutingId, local.ToString());
            activity.SetTag(Tags.RemoteEndpoint, remote.ToString());
            activity.SetTag(Tags.Protocol, remote.Protocol);
            if (!remote.RoutingId.IsNull)
            {
                activity.SetTag(Tags.RemoteRoutingId, remote.RoutingId.ToString());
            }
        }

        return activity;
    }

    /// <summary>
    /// An accept span, the root of its own trace: whoever started the listener long ago is not the cause of the connection.
    /// Call it from the async method that serves the connection, so the cleared parent stays in that method.
    /// </summary>
    public static Activity? StartAccept(Endpoint local, System.Net.EndPoint? peerAddress)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity.Current = null;
        var activity = Source.StartActivity(Accept, ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.LocalRoutingId, local.RoutingId.ToString());
            activity.SetTag(Tags.LocalEndpoint, local.ToString());
            activity.SetTag(Tags.Protocol, local.Protocol);
            if (peerAddress is not null)
            {
                activity.SetTag(Tags.PeerAddress, peerAddress.ToString());
            }
        }

        return activity;
    }

    /// <summary>A handshake span; <paramref name="remote"/> is known to the dialer only.</summary>
    public static Activity? StartHandshake(string role, Endpoint local, Endpoint? remote)
    {
        var activity = Source.StartActivity(Handshake, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.HandshakeRole, role);
            activity.SetTag(Tags.LocalRoutingId, local.RoutingId.ToString());
            activity.SetTag(Tags.Protocol, remote?.Protocol ?? local.Protocol);
            if (remote is not null)
            {
                activity.SetTag(Tags.RemoteEndpoint, remote.ToString());
            }
        }

        return activity;
    }

    /// <summary>
    /// Records who the peer proved to be once the connection is up: its routing ID, and the blessing names this side
    /// recognised (none when this side trusts none of the peer's roots: then the tag is left out).
    /// </summary>
    public static void SetPeer(Activity? activity, Endpoint remote, IReadOnlyList<string> blessingNames)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.RemoteRoutingId, remote.RoutingId.ToString());
            if (blessingNames.Count > 0)
            {
                activity.SetTag(Tags.RemoteBlessings, blessingNames.ToArray());
            }
        }
    }
}
