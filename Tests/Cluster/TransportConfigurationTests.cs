using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// The silo's transport comes from the options pipeline: <c>FlowOrleans:Transport</c> settings shape the manager the
/// container builds, a bad one fails the start naming it, and a test can hand the silo a manager of its own.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class TransportConfigurationTests
{
    /// <summary>A one-silo host on free ports with the flow transport and <paramref name="settings"/> as configuration; not started.</summary>
    private static IHost BuildSilo(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services?.Invoke(builder.Services);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(ChildProcesses.FreePort(), ChildProcesses.FreePort(), serviceId: "config-test", clusterId: "config-" + Guid.NewGuid().ToString("N")[..8])
            .AddMemoryGrainStorage(FlowStorageNames.Default)
            .UseInMemoryReminderService()
            .AddFlowOrleansMemoryStreams()
            .AddFlowOrleans(TestSiloOptions.Development));
        return builder.Build();
    }

    private static async Task DisposeAsync(IHost host)
    {
        if (host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task TransportSettingsShapeTheManagerTheContainerBuilds()
    {
        var ct = new CancellationTokenSource(TestTimeout).Token;
        var host = BuildSilo(new Dictionary<string, string?>
        {
            ["FlowOrleans:Transport:DialTimeout"] = "00:00:07",
            ["FlowOrleans:Transport:Connection:MaxConcurrentFlows"] = "1",
        });
        try
        {
            var options = host.Services.GetRequiredService<IOptions<FlowManagerOptions>>().Value;
            Assert.Equal(TimeSpan.FromSeconds(7), options.DialTimeout);
            Assert.Equal(1, options.Connection.MaxConcurrentFlows);

            // What only the host has comes from its services.
            Assert.NotSame(NullLoggerFactory.Instance, options.LoggerFactory);
            Assert.NotNull(options.MeterFactory);
            Assert.Same(host.Services.GetRequiredService<TimeProvider>(), options.Connection.TimeProvider);
            var manager = host.Services.GetRequiredService<IFlowManager>();
            Assert.Same(options.Principal, manager.Principal);

            // One open flow is all a connection to this silo's manager may carry: the peer's second is refused.
            var listener = await manager.ListenAsync("tcp", "127.0.0.1:0", ct);
            await using var peer = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("peer") });
            await using var first = await peer.DialAsync(listener.Endpoint, PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
            await first.WriteAsync(new byte[] { 1 }, ct);
            await using var second = await peer.DialAsync(listener.Endpoint, PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
            await second.WriteAsync(new byte[] { 2 }, ct);
            await WaitUntilAsync(() => manager.Connections.Sum(c => c.Counters.FlowsRefused) == 1, cancellationToken: ct);
        }
        finally
        {
            await DisposeAsync(host);
        }
    }

    [Theory]
    [InlineData("FlowOrleans:Transport:Connection:Mtu", "10", "Mtu")]
    [InlineData("FlowOrleans:Transport:DialTimeout", "00:00:00", "DialTimeout")]
    [InlineData("FlowOrleans:ClaimTimeout", "00:00:00", "ClaimTimeout")]
    [InlineData("FlowOrleans:HandoverTimeout", "00:00:00", "HandoverTimeout")]
    public async Task ABadSettingFailsTheSilosStartNamingIt(string key, string value, string setting)
    {
        var host = BuildSilo(new Dictionary<string, string?> { [key] = value });
        try
        {
            var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(new CancellationTokenSource(TestTimeout).Token));
            Assert.Contains(setting, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            await DisposeAsync(host);
        }
    }

    [Fact]
    public async Task ASiloRunsOnAManagerATestHandsIt()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;
        var routingId = RoutingId.NewRandom();
        await using var replacement = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("replacement"), RoutingId = routingId });
        var host = BuildSilo(new Dictionary<string, string?>(), services => services.AddSingleton<IFlowManager>(replacement));
        try
        {
            await host.StartAsync(ct);
            var transport = host.Services.GetRequiredService<SiloTransport>();
            await transport.Started.WaitAsync(ct);
            Assert.Same(replacement, host.Services.GetRequiredService<IFlowManager>());
            Assert.All(transport.Endpoints, e => Assert.Equal(routingId, e.RoutingId));

            // The grain face reports the replacement too.
            var flows = new FlowClient(host.Services.GetRequiredService<IClusterClient>());
            var status = Assert.Single(await flows.GetStatusAsync(ct));
            Assert.Equal(routingId, status.RoutingId);
            Assert.Equal(replacement.Status.Endpoints, status.Endpoints);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await DisposeAsync(host);
        }
    }
}
