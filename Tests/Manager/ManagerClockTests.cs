using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>A manager and its connections run on one clock, <see cref="FlowManagerOptions.TimeProvider"/>.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ManagerClockTests
{
    // Far from every other timer's due time, so each can be told apart in ObservedClock.DueTimes.
    private static readonly TimeSpan DialTimeout = TimeSpan.FromMinutes(7);
    internal static readonly TimeSpan BackoffMin = TimeSpan.FromMinutes(20);

    /// <summary>Options for a manager on <paramref name="clock"/> whose connections never time out while the test moves it.</summary>
    internal static FlowManagerOptions OnClock(TimeProvider clock, ProtocolRegistry protocols, string name) => new()
    {
        Principal = NewPrincipal(name),
        Protocols = protocols,
        TimeProvider = clock,
        DialTimeout = DialTimeout,
        PinBackoffMin = BackoffMin,
        PinBackoffMax = 2 * BackoffMin,
        Connection = new ConnectionOptions { ChannelTimeout = TimeSpan.FromDays(1) },
    };

    internal static ProtocolRegistry MemoryNetwork()
    {
        var registry = new ProtocolRegistry();
        registry.Register("memory", new MemoryProtocol());
        return registry;
    }

    private static IPeerAuthorizer Anyone(FlowManager m) => PeerAuthorizers.AllowEveryone(m.Principal);

    [Fact]
    public void TheManagersClockIsItsOwnOrElseTheConnectionsAndTwoDifferentClocksAreRefused()
    {
        var mine = new FakeTimeProvider();
        var theirs = new FakeTimeProvider();

        new FlowManagerOptions { TimeProvider = mine }.Validate();
        new FlowManagerOptions { Connection = new ConnectionOptions { TimeProvider = mine } }.Validate();
        new FlowManagerOptions { TimeProvider = mine, Connection = new ConnectionOptions { TimeProvider = mine } }.Validate();
        var e = Assert.Throws<FlowException>(() =>
            new FlowManagerOptions { TimeProvider = mine, Connection = new ConnectionOptions { TimeProvider = theirs } }.Validate());

        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        Assert.Contains("TimeProvider", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheConnectionsAManagerDialsAndAcceptsRunOnItsClock()
    {
        var clientClock = new FakeTimeProvider();
        var serverClock = new FakeTimeProvider();
        var network = MemoryNetwork();
        await using var server = new FlowManager(OnClock(serverClock, network, "server"));
        await using var client = new FlowManager(OnClock(clientClock, network, "client"));
        var listener = await server.ListenAsync("memory", "server");

        await using var flow = await client.DialAsync(listener.Endpoint, Anyone(client));
        await flow.WriteAsync(new byte[] { 1 });
        await using var accepted = await server.AcceptAsync().AsTask().WaitAsync(TestTimeout);

        Assert.Same(clientClock, ((ManagedConnection)flow.Connection).TimeProvider);
        Assert.Same(serverClock, ((ManagedConnection)accepted.Connection).TimeProvider);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // settings that give only the connections a clock give it to the manager too
    public async Task ADialTimesOutOnTheManagersClockAndTheProtocolGetsNoTimerOfItsOwn(bool clockOnConnectionOptions)
    {
        var clock = new ObservedClock();
        var network = MemoryNetwork();
        var hanging = new HangingProtocol();
        network.Register("hang", hanging);
        var options = OnClock(clockOnConnectionOptions ? TimeProvider.System : clock, network, "client");
        if (clockOnConnectionOptions)
        {
            options.Connection.TimeProvider = clock;
        }

        await using var client = new FlowManager(options);

        var dial = client.DialAsync(Endpoint.Create("hang", "nowhere"), Anyone(client));
        await hanging.Entered.WaitAsync(TestTimeout);

        Assert.Contains(DialTimeout, clock.DueTimes);
        Assert.Equal(Timeout.InfiniteTimeSpan, hanging.Timeout);
        Assert.False(dial.IsCompleted);
        clock.Advance(DialTimeout);

        var e = await Assert.ThrowsAsync<FlowException>(() => dial.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.DialFailed, e.Code);
        Assert.Contains("did not finish within", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APinnedConnectionIsRedialedWhenTheBackoffPassesOnTheManagersClock()
    {
        var clock = new ObservedClock();
        var network = MemoryNetwork();
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("server"), Protocols = network });
        var listener = await server.ListenAsync("memory", "server");
        await using var client = new FlowManager(OnClock(clock, network, "client"));
        var pin = await client.PinConnectionAsync(listener.Endpoint, Anyone(client));
        var before = pin.Connection;

        await ((ManagedConnection)before).CloseAsync("dropped by the test");

        // Backoff before the first re-dial: BackoffMin with ±50 % jitter.
        await clock.WaitForTimerAsync(due => due >= BackoffMin / 2 && due <= BackoffMin * 1.5);
        Assert.Equal(0, pin.Reconnects);
        clock.Advance(BackoffMin * 1.5);

        await WaitUntilAsync(() => pin.Reconnects == 1, () => $"{pin.Reconnects} reconnects");
        Assert.NotSame(before, pin.Connection);
        Assert.False(pin.Connection.Closed.IsCompleted);
    }

    /// <summary>A protocol whose dials never connect: they end only when cancelled, as a real dial would.</summary>
    private sealed class HangingProtocol : IProtocol
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public TimeSpan? Timeout { get; private set; }

        public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
        {
            Timeout = timeout;
            _entered.TrySetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, ct);
            }
            catch (OperationCanceledException e)
            {
                throw new FlowException(FlowErrorCode.Aborted, $"Dialing {protocol} address \"{address}\" was cancelled.", e);
            }

            throw new InvalidOperationException("unreachable");
        }

        public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default) =>
            new(new ResolvedAddresses(protocol, [address]));

        public ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default) =>
            throw new NotSupportedException();
    }
}
