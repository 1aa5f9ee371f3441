using FlowOrleans.Silo;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Diagnostics;

/// <summary>The Silo program's telemetry settings: off by default, refused when malformed.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SiloTelemetryTests
{
    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        builder.AddSiloTelemetry();
        return builder;
    }

    private static bool RegistersTracing(HostApplicationBuilder builder) => builder.Services.Any(d => d.ServiceType == typeof(TracerProvider));

    [Fact]
    public void NothingIsExportedUnlessAnExporterIsOn()
    {
        Assert.False(RegistersTracing(Builder()));
        Assert.False(RegistersTracing(Builder(("Silo:Telemetry:Console", "false"))));
        Assert.True(RegistersTracing(Builder(("Silo:Telemetry:Console", "true"))));
        Assert.True(RegistersTracing(Builder(("Silo:Telemetry:OtlpEndpoint", "http://127.0.0.1:4317"))));
    }

    [Fact]
    public void AMalformedCollectorAddressIsRefusedNamingTheSetting()
    {
        using var services = Builder(("Silo:Telemetry:OtlpEndpoint", "nonsense")).Services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SiloTelemetryOptions>>().Value);
        Assert.Contains("Silo:Telemetry:OtlpEndpoint 'nonsense'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSiloExportsEveryFlowOrleansSourceAndMeter()
    {
        Assert.Contains(Transport.Diagnostics.TransportTelemetry.ActivitySourceName, SiloTelemetry.ActivitySources);
        Assert.Contains(Grains.Diagnostics.ClusterTelemetry.ActivitySourceName, SiloTelemetry.ActivitySources);
        Assert.Contains(FlowManagerMetrics.MeterName, SiloTelemetry.Meters);
    }
}

/// <summary>The real Silo program with the console exporter on prints the spans and metrics of a connection it accepts.</summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class SiloConsoleExportTests
{
    [Fact]
    public async Task TheSiloPrintsTheSpansAndMetricsOfAnAcceptedConnection()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = cts.Token;
        await using var silo = await SiloProcess.StartAsync(["--Silo:Telemetry:Console=true"], ct);
        await using var peer = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("console-peer") });
        await using var flow = await peer.DialAsync(Endpoint.Parse(Assert.Single(silo.Endpoints)), PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);

        // The console exporter prints each span as it ends, its tags included, and the meters every few seconds.
        bool Printed(string text) => silo.Output.Any(line => line.Contains(text, StringComparison.Ordinal));
        await WaitUntilAsync(
            () => Printed("flow.accept") && Printed(peer.RoutingId.ToString()) && Printed("flow.handshake") && Printed("flow.connections"),
            () => "spans and metrics on the silo's output; it printed:\n" + string.Join('\n', silo.Output.TakeLast(60)),
            ct);
    }
}

/// <summary>
/// The sources and meters the Silo exports, through the OpenTelemetry SDK with the in-memory exporter: a dial and its
/// accept come out as spans, and the managers' instruments as metrics.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class SiloTelemetryExportTests
{
    [Fact]
    public async Task TheSilosSourcesAndMetersExportADialsSpansAndTheManagersMetrics()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var spans = new LockedCollection<System.Diagnostics.Activity>();
        var metrics = new List<Metric>();
        using (var tracing = OpenTelemetry.Sdk.CreateTracerProviderBuilder().AddSource([.. SiloTelemetry.ActivitySources]).AddInMemoryExporter(spans).Build())
        using (var meters = OpenTelemetry.Sdk.CreateMeterProviderBuilder().AddMeter([.. SiloTelemetry.Meters]).AddInMemoryExporter(metrics).Build())
        {
            await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("exported-server") });
            await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("exported-client") });
            var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
            await using var flow = await client.DialAsync(listener.Endpoint, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct);
            await using var accepted = await server.AcceptAsync(ct);
            bool Exported(string name, FlowManager local) =>
                spans.Snapshot().Any(s => s.OperationName == name && Equals(s.GetTagItem(Transport.Diagnostics.TransportTelemetry.Tags.LocalRoutingId), local.RoutingId.ToString()));
            await WaitUntilAsync(
                () => tracing.ForceFlush() && Exported("flow.dial", client) && Exported("flow.accept", server),
                () => "dial and accept spans exported: " + string.Join(", ", spans.Snapshot().Select(s => s.OperationName)),
                ct);
            Assert.True(meters.ForceFlush());
            Assert.Contains(metrics, m => m.MeterName == FlowManagerMetrics.MeterName && m.Name == "flow.connections");
        }
    }

    /// <summary>The exporter adds spans of every test running in the process, from their threads.</summary>
    private sealed class LockedCollection<T> : System.Collections.ObjectModel.Collection<T>
    {
        private readonly Lock _gate = new();

        public T[] Snapshot()
        {
            lock (_gate)
            {
                return [.. this];
            }
        }

        protected override void InsertItem(int index, T item)
        {
            lock (_gate)
            {
                base.InsertItem(index, item);
            }
        }
    }
}
