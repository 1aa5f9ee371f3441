namespace FlowOrleans.Transport.Diagnostics;

/// <summary>
/// The names under which the transport reports, for an OpenTelemetry setup (<c>AddSource</c>, <c>AddMeter</c>) or any
/// <see cref="System.Diagnostics.ActivityListener"/> / <see cref="System.Diagnostics.Metrics.MeterListener"/>.
/// </summary>
public static class TransportTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of dial, handshake and accept spans.</summary>
    public const string ActivitySourceName = "FlowOrleans.Transport";

    /// <summary>The meter of every flow manager's instruments (connections, flows, bytes, budgets, handshakes).</summary>
    public const string MeterName = "FlowOrleans.Transport";
}
