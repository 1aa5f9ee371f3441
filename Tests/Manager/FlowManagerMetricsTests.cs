using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FlowManagerMetricsTests
{
    /// <summary>The latest value of every FlowOrleans.Transport instrument, per manager routing ID.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<(string Manager, string Instrument), long> _observed = new();
        private readonly ConcurrentDictionary<(string Manager, string Instrument), long> _added = new();

        public Recorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "FlowOrleans.Transport")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string? manager = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "flow.manager")
                    {
                        manager = (string?)tag.Value;
                    }
                }

                var key = (manager ?? "", instrument.Name);
                if (instrument.IsObservable)
                {
                    _observed[key] = value;
                }
                else
                {
                    _added.AddOrUpdate(key, value, (_, sum) => sum + value);
                }
            });
            _listener.Start();
        }

        public long Observe(FlowManager manager, string instrument)
        {
            _listener.RecordObservableInstruments();
            return _observed.GetValueOrDefault((manager.RoutingId.ToString(), instrument));
        }

        public long Added(FlowManager manager, string instrument) => _added.GetValueOrDefault((manager.RoutingId.ToString(), instrument));

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task GaugesFollowTheLiveConnectionsAndTotalsSurviveTheirClose()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        using var recorder = new Recorder();
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("metrics-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("metrics-client") });

        var flows = new List<Transport.Flows.IFlow>();
        for (var i = 0; i < 3; i++)
        {
            var flow = await client.DialAsync(listener.Endpoint, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct);
            await flow.WriteAsync(new byte[10_000], ct);
            flows.Add(flow);
            flows.Add(await server.AcceptAsync(ct));
        }

        Assert.Equal(1, recorder.Observe(client, "flow.connections"));
        Assert.Equal(3, recorder.Observe(client, "flow.flows.open"));
        Assert.Equal(3, recorder.Observe(client, "flow.flows.opened"));
        Assert.Equal(3, recorder.Observe(server, "flow.flows.accepted"));
        Assert.True(recorder.Observe(client, "flow.bytes.sent") >= 30_000);
        Assert.True(recorder.Observe(server, "flow.buffered") >= 30_000, "the server has read nothing yet");
        Assert.True(recorder.Observe(server, "flow.receive.retained") >= 30_000);
        var reserved = recorder.Observe(server, "flow.receive.reserved");
        Assert.InRange(reserved, new Transport.Connections.ConnectionOptions().SharedCredit + (3 * 16 * 1024), new FlowManagerOptions().TotalReceiveBudget);
        Assert.Equal(0, recorder.Observe(server, "flow.handshakes.pending"));
        var received = recorder.Observe(server, "flow.bytes.received");
        Assert.True(received >= 30_000);

        foreach (var flow in flows)
        {
            await flow.DisposeAsync();
        }

        await client.DisposeAsync();
        await WaitUntilAsync(() => server.Connections.Count == 0, cancellationToken: ct);

        // The connection is gone; the gauges drop with it, the totals do not.
        Assert.Equal(0, recorder.Observe(server, "flow.connections"));
        Assert.Equal(0, recorder.Observe(server, "flow.flows.open"));
        Assert.Equal(0, recorder.Observe(server, "flow.receive.reserved"));
        Assert.Equal(0, recorder.Observe(server, "flow.receive.retained"));
        Assert.Equal(0, recorder.Observe(server, "flow.control.queued"));
        Assert.True(recorder.Observe(server, "flow.bytes.received") >= received);
        Assert.Equal(3, recorder.Observe(server, "flow.flows.accepted"));
    }

    [Fact]
    public async Task RefusedHandshakesAndPinReconnectsAreCounted()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        using var recorder = new Recorder();
        await using var picky = new FlowManager(new FlowManagerOptions
        {
            Principal = NewPrincipal("picky"),
            AcceptorAuthorizer = PeerAuthorizers.RequireBlessings(NewPrincipal("someone-else"), "nobody"),
        });
        var pickyListener = await picky.ListenAsync("tcp", "127.0.0.1:0", ct);
        await using var client = new FlowManager(new FlowManagerOptions
        {
            Principal = NewPrincipal("refused"),
            PinBackoffMin = TimeSpan.FromMilliseconds(20),
            PinBackoffMax = TimeSpan.FromMilliseconds(200),
        });
        await Assert.ThrowsAsync<FlowException>(async () =>
            await client.DialAsync(pickyListener.Endpoint, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct));
        await WaitUntilAsync(() => recorder.Added(picky, "flow.handshakes.failed") != 0, cancellationToken: ct);

        Assert.Equal(1, recorder.Added(picky, "flow.handshakes.failed"));

        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("pinned") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var pin = await client.PinConnectionAsync(listener.Endpoint, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct);
        await ((Transport.Connections.ManagedConnection)pin.Connection).CloseAsync("dropped by the test");
        await WaitUntilAsync(() => recorder.Added(client, "flow.pins.reconnects") != 0, cancellationToken: ct);

        Assert.Equal(1, pin.Reconnects);
        Assert.Equal(1, recorder.Added(client, "flow.pins.reconnects"));
    }
}
