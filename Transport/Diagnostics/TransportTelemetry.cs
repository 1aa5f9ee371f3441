using System.Diagnostics;

namespace FlowOrleans.Transport.Diagnostics;

/// <summary>
/// The names under which FlowOrleans reports, for an OpenTelemetry setup (<c>AddSource</c>, <c>AddMeter</c>) or any
/// <see cref="ActivityListener"/> / <see cref="System.Diagnostics.Metrics.MeterListener"/>, and the span tags the
/// transport and the cluster share. Tag names follow the OpenTelemetry conventions: dotted lower case, the standard
/// <c>error.type</c> beside our own <see cref="Tags.ErrorCode"/>.
/// </summary>
public static class TransportTelemetry
{
    /// <summary>The <see cref="ActivitySource"/> of dial, handshake and accept spans.</summary>
    public const string ActivitySourceName = "FlowOrleans.Transport";

    /// <summary>The meter of every flow manager's instruments (connections, flows, bytes, budgets, handshakes).</summary>
    public const string MeterName = "FlowOrleans.Transport";

    /// <summary>Span tag names.</summary>
    public static class Tags
    {
        public const string LocalRoutingId = "flow.local.routing_id";
        public const string LocalEndpoint = "flow.local.endpoint";
        public const string RemoteRoutingId = "flow.remote.routing_id";
        public const string RemoteEndpoint = "flow.remote.endpoint";
        public const string RemoteBlessings = "flow.remote.blessings";
        public const string Protocol = "flow.protocol";
        public const string DialKind = "flow.dial.kind";
        public const string HandshakeRole = "flow.handshake.role";
        public const string PeerAddress = "network.peer.address";

        /// <summary>The <see cref="FlowErrorCode"/> of a failed span, by name.</summary>
        public const string ErrorCode = "flow.error_code";

        /// <summary>OpenTelemetry's error type: the <see cref="FlowErrorCode"/>, or the exception type for anything else.</summary>
        public const string ErrorType = "error.type";
    }

    /// <summary>
    /// Marks <paramref name="activity"/> failed (status Error) with the error's code; does nothing for null, which is
    /// what a source returns while nobody listens.
    /// </summary>
    public static void SetError(Activity? activity, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        if (error is FlowException flow)
        {
            activity.SetTag(Tags.ErrorType, flow.Code.ToString());
            activity.SetTag(Tags.ErrorCode, flow.Code.ToString());
        }
        else
        {
            activity.SetTag(Tags.ErrorType, error.GetType().FullName);
        }
    }
}
