using FlowOrleans.Silo;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
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
