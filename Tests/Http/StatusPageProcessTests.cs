using System.Net;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Silo.Http;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Http;

/// <summary>
/// The Silo program's HTTP server from outside: its probes answer once it printed Ready, and its status page, opened in
/// headless Chromium, renders a pin this test made through a <c>FlowClient</c> to an echo peer.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class StatusPageProcessTests
{
    [Fact]
    public async Task TheStatusPageInChromiumShowsAPinMadeThroughTheClient()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = cts.Token;
        await using var silo = await SiloProcess.StartAsync(ct);
        Assert.Contains($"Status page http://127.0.0.1:{silo.HttpPort}/, probes /health/live and /health/ready (this machine only).", silo.Banner);
        using var http = HttpSilo.Client(silo.HttpPort);
        Assert.Equal("live", (await HttpSilo.WaitForAsync(http, HealthEndpoints.LivenessPath, HttpStatusCode.OK, ct)).Trim());
        Assert.Equal("ready", (await HttpSilo.WaitForAsync(http, HealthEndpoints.ReadinessPath, HttpStatusCode.OK, ct)).Trim());

        await using var client = await ProcessClient.ConnectAsync(silo.GatewayPort, silo.ClusterId, ct);
        await using var echo = await EchoServer.StartAsync(new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("echo") }), ct);
        var name = "browser-pin-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(PinStatus.Pinned, (await client.Flows.PinAsync(name, echo.Endpoint, cancellationToken: ct)).Status);

        // The served document has no pin in it; only the page's script, having polled /status.json, renders one.
        var page = new Uri($"http://127.0.0.1:{silo.HttpPort}{StatusEndpoints.PagePath}");
        Assert.DoesNotContain(name, await http.GetStringAsync(page, ct), StringComparison.Ordinal);
        var dom = await HeadlessChromium.DumpDomAsync(page, ct);
        Assert.Contains($"<tr data-pin=\"{name}\"><td>{name}</td><td>{echo.Endpoint}</td>", dom, StringComparison.Ordinal);
        Assert.Contains($"<td>{nameof(PinStatus.Pinned)}</td>", dom, StringComparison.Ordinal);
        Assert.Contains("<h3>Silo ", dom, StringComparison.Ordinal);
        Assert.Contains($"<td>{silo.Endpoints[0]}</td>", dom, StringComparison.Ordinal);
    }
}
