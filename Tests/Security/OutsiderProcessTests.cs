using System.Net;
using System.Net.Sockets;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// The outsider against the real Silo program: a plain Orleans client tries each thing it did before, against a
/// silo whose policy allows dials to one loopback port (its operator's echo server) and no listens. Each is refused with
/// a typed error and nothing is dialed, listened or deleted; another application on the same cluster still does what
/// the README walkthrough shows.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class OutsiderProcessTests
{
    [Fact]
    public async Task EveryOutsiderActionIsRefusedAndTheApplicationStillWorks()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = cts.Token;
        await using var echo = await EchoServer.StartAsync(new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("echo") }), ct);
        var scanned = new TcpListener(IPAddress.Loopback, 0);
        scanned.Start();
        var victim = Path.Combine(Path.GetTempPath(), "flow-victim-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(victim, "precious", ct);
        try
        {
            string[] settings =
            [
                "--FlowOrleans:Trust:AllowEveryone=true",
                "--FlowOrleans:Policy:Profile=Production",
                "--FlowOrleans:Policy:Dial:Networks:0=127.0.0.1/32",
                "--FlowOrleans:Policy:Dial:DeniedNetworks:0=192.0.2.0/24",
                $"--FlowOrleans:Policy:Dial:Ports:0={echo.Listener.Endpoint.Port()}",
            ];
            await using var silo = await SiloProcess.StartAsync(settings, ct);
            Assert.DoesNotContain(silo.Banner, l => l.StartsWith("Development policy", StringComparison.Ordinal));
            await using var app = await ProcessClient.ConnectAsync(silo.GatewayPort, silo.ClusterId, ct);
            await using var outsiderHost = await ProcessClient.ConnectAsync(silo.GatewayPort, silo.ClusterId, ct);
            var outsider = outsiderHost.Flows;
            var siloKey = Assert.Single(await outsider.GetSilosAsync(ct));
            var grain = outsider.GetSilo(siloKey);

            // Dial: a port scan of loopback, HTTP over ws, the metadata service. Nothing reaches the scanned port.
            var port = ((IPEndPoint)scanned.LocalEndpoint).Port;
            foreach (var target in new[] { Endpoint.Create("tcp", $"127.0.0.1:{port}"), Endpoint.Create("ws", $"127.0.0.1:{echo.Listener.Endpoint.Port()}"), Endpoint.Create("tcp", "169.254.169.254:80") })
            {
                Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => outsider.DialAsync(target, ct))).Code);
            }

            Assert.False(scanned.Pending());

            // Listen: tcp anywhere, or a unix path over somebody's file.
            Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => grain.ListenAsync(new ListenAddress("tcp", "127.0.0.1:0"), ct))).Code);
            Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => grain.ListenAsync(new ListenAddress("unix", victim), ct))).Code);
            Assert.Equal("precious", await File.ReadAllTextAsync(victim, ct));
            Assert.Equal(silo.Endpoints, (await grain.GetStatusAsync()).Endpoints.Select(e => e.ToString()));

            // Another application's pin and listening name.
            var pinned = await app.Flows.PinAsync("app-pin", echo.Listener.Endpoint, cancellationToken: ct);
            Assert.Equal(PinStatus.Pinned, pinned.Status);
            Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => outsider.UnpinAsync("app-pin", ct))).Code);
            Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => outsider.PinAsync("app-pin", Endpoint.Create("tcp", $"127.0.0.1:{port}"), cancellationToken: ct))).Code);
            Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => grain.UnpinAsync("app-pin", ""))).Code);
            Assert.Equal(PinStatus.Pinned, Assert.Single(await outsider.GetPinsAsync(ct)).Status);
            await using (var acceptor = await app.Flows.ListenAsync())
            {
                Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => outsider.ListenAsync())).Code);
            }

            // The routing directory.
            var routingId = RoutingId.NewRandom();
            var forged = new RoutingIdPeer([Endpoint.ForRoutingId(routingId)], "forged", []);
            Assert.Equal(FlowErrorCode.NotTrusted, (await Assert.ThrowsAsync<FlowException>(() => outsiderHost.Cluster.GetRoutingIdGrain(routingId).RegisterAsync(siloKey, forged))).Code);
            Assert.Empty(await outsiderHost.Cluster.GetRoutingIdGrain(routingId).LookupAsync([]));

            // The application: a dial through the silo to the echo server, its pin removed by its owner.
            await using (var flow = await app.Flows.DialAsync(echo.Endpoint, ct))
            {
                await flow.WriteAsync("hello"u8.ToArray(), ct);
                await flow.CompleteWritesAsync(ct);
                using var reader = new StreamReader(flow);
                Assert.Equal("hello", await reader.ReadToEndAsync(ct));
            }

            await app.Flows.UnpinAsync("app-pin", ct);
            Assert.Empty(await app.Flows.GetPinsAsync(ct));
            Assert.False(scanned.Pending());
        }
        finally
        {
            scanned.Stop();
            File.Delete(victim);
        }
    }
}
