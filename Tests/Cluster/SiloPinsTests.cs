using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging.Abstractions;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>The silo's share of the cluster's pins, over a real transport and peers.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class SiloPinsTests : IAsyncLifetime
{
    private readonly FlowManager _manager = new(new FlowManagerOptions { Principal = NewPrincipal("silo") });
    private readonly FlowManager _server = new(new FlowManagerOptions { Principal = NewPrincipal("pinned-server") });
    private readonly SiloTransport _transport;
    private readonly SiloPins _pins;
    private IFlowListener _first = null!;
    private IFlowListener _second = null!;

    public SiloPinsTests()
    {
        _transport = SiloTransportTests.NewTransport(_manager);
        _pins = new SiloPins(_transport, NullLogger<SiloPins>.Instance);
    }

    private const string Owner = "owner-digest";

    private static CancellationToken Timeout() => new CancellationTokenSource(TestTimeout).Token;

    private static PinRequest To(IFlowListener listener, params string[] patterns) => new(listener.Endpoint, patterns, TimeSpan.Zero);

    public async ValueTask InitializeAsync()
    {
        _first = await _server.ListenAsync("tcp", "127.0.0.1:0");
        _second = await _server.ListenAsync("tcp", "127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        await _pins.StopAsync(CancellationToken.None);
        _pins.Dispose();
        _transport.Dispose();
        await _manager.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task PinningAgainWithTheSameEndpointKeepsThePin()
    {
        var pinned = await _pins.PinAsync("a", To(_first), Owner, Timeout());
        Assert.Equal("a", pinned.Name);
        Assert.Equal(_first.Endpoint, pinned.Endpoint);
        Assert.Equal(_server.RoutingId, pinned.RemoteEndpoint.RoutingId);
        var pin = Assert.Single(_manager.Pins);

        await _pins.PinAsync("a", To(_first), Owner, Timeout());
        Assert.Same(pin, Assert.Single(_manager.Pins));
        Assert.Equal(pinned.Endpoint, Assert.Single(_pins.All).Endpoint);
    }

    [Fact]
    public async Task PinningANameToAnotherEndpointReplacesItsPin()
    {
        await _pins.PinAsync("a", To(_first), Owner, Timeout());
        var before = Assert.Single(_manager.Pins);

        var repinned = await _pins.PinAsync("a", To(_second), Owner, Timeout());
        Assert.Equal(_second.Endpoint, repinned.Endpoint);
        Assert.Equal(_second.Endpoint, _pins.Get("a")!.Endpoint);
        Assert.NotSame(before, Assert.Single(_manager.Pins));
    }

    [Fact]
    public async Task UnpinForgetsThePinAndIsIdempotent()
    {
        await _pins.PinAsync("a", To(_first), Owner, Timeout());
        await _pins.PinAsync("b", To(_second), Owner, Timeout());
        Assert.Equal(["a", "b"], _pins.All.Select(p => p.Name).Order(StringComparer.Ordinal));

        _pins.Unpin("a", Owner);
        _pins.Unpin("a", Owner);
        Assert.Null(_pins.Get("a"));
        Assert.Equal("b", Assert.Single(_pins.All).Name);
        Assert.Single(_manager.Pins);
    }

    [Fact]
    public async Task APeerWithoutTheRequiredBlessingsIsNotPinned()
    {
        var e = await Assert.ThrowsAsync<FlowException>(() => _pins.PinAsync("strict", To(_first, "root:someone-else"), Owner, Timeout()));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
        Assert.Null(_pins.Get("strict"));
        Assert.Empty(_manager.Pins);
    }

    [Fact]
    public async Task StoppingUnpinsEveryPinAndRefusesNewOnes()
    {
        await _pins.PinAsync("a", To(_first), Owner, Timeout());
        await _pins.StopAsync(CancellationToken.None);
        Assert.Empty(_pins.All);
        Assert.Empty(_manager.Pins);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _pins.PinAsync("b", To(_second), Owner, Timeout()));
    }
}
