using System.Diagnostics.Metrics;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Diagnostics;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// A manager's instruments on the <c>FlowOrleans.Transport</c> meter, for OpenTelemetry or any <see cref="MeterListener"/>.
/// Gauges read the live connections at collection time; the monotonic counters read the manager's running totals,
/// which closed connections keep contributing to. Every measurement is tagged with the manager's routing ID, so
/// several managers in one process stay apart.
/// </summary>
internal sealed class FlowManagerMetrics : IDisposable
{
    public const string MeterName = TransportTelemetry.MeterName;

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _manager;
    private readonly Counter<long> _pinReconnects;
    private readonly Counter<long> _handshakeFailures;

    public FlowManagerMetrics(
        IMeterFactory? meterFactory,
        string routingId,
        ConnectionCounters totals,
        Func<IReadOnlyList<IManagedConnection>> connections,
        PendingHandshakes handshakes,
        ReceiveBudgetPool receiveBudget)
    {
        // A factory caches meters by name and tags (the routing ID makes this one the manager's own) and disposes them;
        // a meter made here is ours to dispose.
        _ownsMeter = meterFactory is null;
        _manager = new("flow.manager", routingId);
        var options = new MeterOptions(MeterName) { Tags = [_manager] };
        _meter = meterFactory?.Create(options) ?? new Meter(options);

        _meter.CreateObservableUpDownCounter("flow.connections", () => Measure(connections().Count), "{connection}", "Connections the manager holds, dialed and accepted.");
        _meter.CreateObservableUpDownCounter("flow.flows.open", () => Measure(connections().Sum(c => c.Counters.OpenFlows)), "{flow}", "Flows open on the manager's connections.");
        _meter.CreateObservableUpDownCounter("flow.buffered", () => Measure(connections().Sum(c => c.Counters.BufferedBytes)), "By", "Received bytes waiting for the application to read them.");
        _meter.CreateObservableUpDownCounter("flow.receive.reserved", () => Measure(receiveBudget.Reserved), "By", "Receive windows and shared credit reserved from the manager's TotalReceiveBudget.");
        _meter.CreateObservableUpDownCounter("flow.receive.retained", () => Measure(connections().Sum(c => c.Counters.RetainedBufferBytes)), "By", "Pooled arrays held for received data, whole.");
        _meter.CreateObservableUpDownCounter("flow.control.queued", () => Measure(connections().Sum(c => c.Counters.QueuedControlBytes)), "By", "Control messages waiting for peers to read them, as counted against ControlBudget.");
        _meter.CreateObservableCounter("flow.bytes.sent", () => Measure(totals.BytesSent), "By", "Record bytes sent on every connection, encryption included.");
        _meter.CreateObservableCounter("flow.bytes.received", () => Measure(totals.BytesReceived), "By", "Record bytes received on every connection.");
        _meter.CreateObservableCounter("flow.flows.opened", () => Measure(totals.FlowsOpened), "{flow}", "Flows this side opened.");
        _meter.CreateObservableCounter("flow.flows.accepted", () => Measure(totals.FlowsAccepted), "{flow}", "Flows peers opened.");
        _meter.CreateObservableCounter("flow.flows.refused", () => Measure(totals.FlowsRefused), "{flow}", "Flows refused (backlog full, lame duck, limits).");
        _pinReconnects = _meter.CreateCounter<long>("flow.pins.reconnects", "{reconnect}", "Times a pinned connection came back after it dropped.");
        _handshakeFailures = _meter.CreateCounter<long>("flow.handshakes.failed", "{handshake}", "Handshakes of accepted connections that failed.");
        _meter.CreateObservableUpDownCounter("flow.handshakes.pending", () => Measure(handshakes.Count), "{handshake}", "Handshakes of accepted connections in progress.");
        _meter.CreateObservableCounter("flow.handshakes.displaced", () => Measure(handshakes.Displaced), "{handshake}", "Handshakes closed to make room for a new connection, MaxPendingHandshakes being in progress.");
    }

    public void PinReconnected() => _pinReconnects.Add(1, _manager);

    public void HandshakeFailed() => _handshakeFailures.Add(1, _manager);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private Measurement<long> Measure(long value) => new(value, _manager);
}
