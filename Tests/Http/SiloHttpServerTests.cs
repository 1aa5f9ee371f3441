using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Silo.Http;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Http;

/// <summary>
/// The silo's HTTP server in a silo host built as the Silo program builds it: liveness from the start, readiness only
/// between joining (with the transport listening) and stopping, a taken port refusing the start, /status.json, and the
/// dashboard behind its setting.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class SiloHttpServerTests
{
    [Fact]
    public async Task ReadinessIsUnavailableUntilTheSiloIsActiveAndItsTransportListensAndAgainWhileItStops()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var port = ChildProcesses.FreePort();
        var gate = new LifecycleGate();
        var host = HttpSilo.Build(port, services: s => s.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(gate));
        try
        {
            using var http = HttpSilo.Client(port);
            var starting = host.StartAsync(ct);

            // The HTTP server is up before the silo: live at once, not ready while the silo is held before Active.
            await HttpSilo.WaitForAsync(http, HealthEndpoints.LivenessPath, HttpStatusCode.OK, ct);
            await gate.Reached.Task.WaitAsync(ct);
            using (var early = await http.GetAsync(HealthEndpoints.ReadinessPath, ct))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
                Assert.StartsWith("not ready: ", await early.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            }

            Assert.False(host.Services.GetRequiredService<SiloTransport>().Started.IsCompleted);
            gate.Open.SetResult();
            await starting;
            Assert.Equal("ready", (await HttpSilo.WaitForAsync(http, HealthEndpoints.ReadinessPath, HttpStatusCode.OK, ct)).Trim());

            // Stopping: the silo is held in its shutdown, the HTTP server (stopped last) still answers, not ready.
            var stopping = host.StopAsync(ct);
            await gate.Stopping.Task.WaitAsync(ct);
            using (var late = await http.GetAsync(HealthEndpoints.ReadinessPath, ct))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
                Assert.Equal("not ready: the silo is stopping", (await late.Content.ReadAsStringAsync(ct)).Trim());
            }

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(HealthEndpoints.LivenessPath, ct)).StatusCode);
            gate.Stopped.SetResult();
            await stopping;
        }
        finally
        {
            gate.Open.TrySetResult();
            gate.Stopped.TrySetResult();
            await HttpSilo.DisposeAsync(host);
        }
    }

    [Fact]
    public async Task ATakenHttpPortRefusesTheStartWithOneLineNamingTheSettingBeforeTheSiloStarts()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var host = HttpSilo.Build(port);
        try
        {
            var e = await Assert.ThrowsAsync<HttpPortInUseException>(() => host.StartAsync(cts.Token));
            Assert.StartsWith($"Silo:HttpPort {port} is in use", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
            Assert.Equal(port, e.Port);

            // The silo never started: its flow transport never listened.
            Assert.False(host.Services.GetRequiredService<SiloTransport>().Started.IsCompleted);
        }
        finally
        {
            await HttpSilo.DisposeAsync(host);
        }
    }

    [Fact]
    public async Task StatusJsonShowsTheSiloItsListenersAndAPinWithItsConnection()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var port = ChildProcesses.FreePort();
        var host = HttpSilo.Build(port);
        try
        {
            await host.StartAsync(ct);
            using var http = HttpSilo.Client(port);
            await using var echo = await EchoServer.StartAsync(new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("echo") }), ct);
            var flows = host.Services.GetRequiredService<FlowClient>();
            Assert.Equal(PinStatus.Pinned, (await flows.PinAsync("status-json-pin", echo.Endpoint, cancellationToken: ct)).Status);

            using var response = await http.GetAsync(StatusEndpoints.JsonPath, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var root = json.RootElement;
            var transport = host.Services.GetRequiredService<SiloTransport>();
            Assert.Equal(transport.SiloKey, root.GetProperty("thisSilo").GetString());
            var silo = Assert.Single(root.GetProperty("silos").EnumerateArray());
            Assert.Equal(transport.SiloKey, silo.GetProperty("siloKey").GetString());
            Assert.Equal(transport.Endpoints.Select(e => e.ToString()), silo.GetProperty("listeners").EnumerateArray().Select(l => l.GetString()));

            // The pin as its grain records it, and as the silo holding it sees it: over a connection to the echo server.
            var pin = Assert.Single(root.GetProperty("pins").EnumerateArray());
            Assert.Equal("status-json-pin", pin.GetProperty("name").GetString());
            Assert.Equal(echo.Endpoint, pin.GetProperty("endpoint").GetString());
            Assert.Equal(transport.SiloKey, pin.GetProperty("ownerSilo").GetString());
            Assert.Equal(nameof(PinStatus.Pinned), pin.GetProperty("status").GetString());
            Assert.Equal(0, pin.GetProperty("reconnects").GetInt32());
            var held = Assert.Single(silo.GetProperty("pins").EnumerateArray());
            Assert.Equal("status-json-pin", held.GetProperty("name").GetString());
            Assert.Equal(echo.Endpoint, held.GetProperty("endpoint").GetString());
            var connection = Assert.Single(silo.GetProperty("connections").EnumerateArray(), c => c.GetProperty("remoteEndpoint").GetString() == held.GetProperty("remoteEndpoint").GetString());
            Assert.True(connection.GetProperty("rttMs").GetDouble() >= 0);
            Assert.InRange(connection.GetProperty("ageSeconds").GetDouble(), 0, TimeSpan.FromMinutes(30).TotalSeconds);
            Assert.Equal(JsonValueKind.Array, connection.GetProperty("remoteBlessings").ValueKind);
            Assert.True(connection.GetProperty("openFlows").GetInt64() >= 0);

            // The page itself is the static document that polls this.
            var page = await http.GetStringAsync(StatusEndpoints.PagePath, ct);
            Assert.Contains("fetch(\"status.json\"", page, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/no-such-page", ct)).StatusCode);
        }
        finally
        {
            await HttpSilo.DisposeAsync(host);
        }
    }

    [Theory]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.NotFound)]
    public async Task TheDashboardIsServedUnderItsPathOnlyWhenTheSettingIsOn(bool dashboard, HttpStatusCode expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var port = ChildProcesses.FreePort();
        var host = HttpSilo.Build(port, dashboard);
        try
        {
            await host.StartAsync(ct);
            using var http = HttpSilo.Client(port);
            using var response = await http.GetAsync(SiloHttpServer.DashboardPath, ct);
            Assert.Equal(expected, response.StatusCode);
            if (dashboard)
            {
                Assert.Contains("Orleans Dashboard", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            }

            // The silo's own endpoints are there either way.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(HealthEndpoints.ReadinessPath, ct)).StatusCode);
        }
        finally
        {
            await HttpSilo.DisposeAsync(host);
        }
    }

    /// <summary>Holds the silo just before Active until <see cref="Open"/>, and in its shutdown until <see cref="Stopped"/>.</summary>
    private sealed class LifecycleGate : ILifecycleParticipant<ISiloLifecycle>
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Stopping { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
            nameof(LifecycleGate),
            ServiceLifecycleStage.Active - 1,
            ct =>
            {
                Reached.TrySetResult();
                return Open.Task.WaitAsync(ct);
            },
            _ =>
            {
                Stopping.TrySetResult();
                return Stopped.Task;
            });
    }
}
