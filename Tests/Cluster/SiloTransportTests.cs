using System.Net;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>The silo's transport: listens on the configured addresses at start, dials and listens for callers, closes at stop.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class SiloTransportTests
{
    internal static SiloTransport NewTransport(IFlowManager manager, params string[] listen)
    {
        var options = new FlowOrleansOptions();
        foreach (var address in listen)
        {
            options.Listen.Add(address);
        }

        TestSiloOptions.Development(options);
        return new SiloTransport(
            manager,
            Options.Create(options),
            new TestSiloDetails(),
            new SiloAuthorizers(manager.Principal, options.Trust),
            new ClientRequestPolicy(options.Policy, Dns.GetHostAddressesAsync, NullLogger.Instance),
            NullLogger<SiloTransport>.Instance);
    }

    [Fact]
    public async Task StartListensOnEveryConfiguredAddressThenCompletesStarted()
    {
        await using var manager = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("silo") });
        using var transport = NewTransport(manager, "tcp/127.0.0.1:0", "tcp/127.0.0.1:0");
        Assert.False(transport.Started.IsCompleted);

        await transport.StartAsync(CancellationToken.None);
        Assert.True(transport.Started.IsCompletedSuccessfully);
        Assert.Equal(2, transport.Endpoints.Count);
        Assert.All(transport.Endpoints, e => Assert.Equal(manager.RoutingId, e.RoutingId));
    }

    [Fact]
    public async Task WithoutListenAddressesItListensOnLoopback()
    {
        await using var manager = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("silo") });
        using var transport = NewTransport(manager);
        await transport.StartAsync(CancellationToken.None);
        Assert.Equal("127.0.0.1", Assert.Single(transport.Endpoints).Address.Split(':')[0]);
    }

    [Fact]
    public async Task AnAddressItCannotListenOnFaultsTheStartAndStarted()
    {
        await using var manager = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("silo") });
        using var transport = NewTransport(manager, "no-such-protocol/somewhere");
        await Assert.ThrowsAsync<FlowException>(() => transport.StartAsync(CancellationToken.None));
        await Assert.ThrowsAsync<FlowException>(() => transport.Started);
    }

    [Fact]
    public async Task CallersDialAndListenThroughItAndStopClosesTheManager()
    {
        var ct = new CancellationTokenSource(TestTimeout).Token;
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var manager = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("silo") });
        using var transport = NewTransport(manager);
        await transport.StartAsync(ct);

        var added = await transport.ListenAsync(ListenAddress.Parse("tcp/127.0.0.1:0"), ct);
        Assert.Contains(added, transport.Endpoints);
        await using var flow = await transport.DialForClientAsync(listener.Endpoint, [], TimeSpan.Zero, ct);
        await flow.WriteAsync(new byte[] { 7 }, ct);
        await using var atServer = await server.AcceptAsync(ct);
        Assert.Equal(server.RoutingId, flow.RemoteEndpoint.RoutingId);

        await transport.StopAsync(ct);
        Assert.True(manager.Closed.IsCompleted);
        await Assert.ThrowsAnyAsync<Exception>(() => transport.DialForClientAsync(listener.Endpoint, [], TimeSpan.Zero, ct));
    }
}
