using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// Found by the fault matrix (a byte flipped in the first record after the handshake): a connection whose read loop
/// failed before its health timer started closed with the timer still running, one loop counted forever and pings
/// scheduled on a dead connection. The clock here holds the health timer's creation until the connection has closed,
/// which makes that interleaving certain.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionStartRaceTests
{
    [Fact]
    public async Task AConnectionThatFailsBeforeItsHealthTimerStartsLeavesNoLoopRunning()
    {
        var (dialed, accepted, listener) = await ConnectionTestKit.FramedPairAsync("memory");
        await using var _ = listener;
        var failing = new FailAfterHandshake(dialed);
        var clock = new HealthTimerHeldUntil(failing.Disposed);
        var dialer = ConnectionTestKit.NewPrincipal("dialer");
        var acceptor = ConnectionTestKit.NewPrincipal("acceptor");
        var accept = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = acceptor,
            Authorizer = PeerAuthorizers.AllowEveryone(acceptor),
            LocalEndpoint = ConnectionTestKit.LocalEndpoint(),
            AcceptedFlows = System.Threading.Channels.Channel.CreateUnbounded<Transport.Flows.IFlow>().Writer,
        });
        var connection = await ManagedConnection.ConnectAsync(failing, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = PeerAuthorizers.AllowEveryone(dialer),
            LocalEndpoint = ConnectionTestKit.LocalEndpoint(),
            Options = new ConnectionOptions { TimeProvider = clock },
        }).WaitAsync(ConnectionTestKit.TestTimeout);

        await connection.Closed.WaitAsync(ConnectionTestKit.TestTimeout);
        Assert.True(clock.HeldHealthTimer, "the interleaving under test did not happen");
        Assert.Equal(FlowErrorCode.Network, connection.CloseReason?.Code);
        await ConnectionTestKit.WaitUntilAsync(
            () => connection.Counters.RunningLoops == 0,
            () => $"{connection.Counters.RunningLoops} loops still counted after close");
        Assert.Equal(0, clock.LiveHealthTimers);
        await (await accept.WaitAsync(ConnectionTestKit.TestTimeout)).DisposeAsync();
    }

    /// <summary>The dialer's handshake reads three frames (Setup, Auth, AuthAccepted); the read loop's first read fails.</summary>
    private sealed class FailAfterHandshake(IFramedConnection inner) : DelegatingFramedConnection(inner)
    {
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reads;

        public Task Disposed => _disposed.Task;

        public override ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _reads) > 3
                ? ValueTask.FromException<FrameReadResult>(new FlowException(FlowErrorCode.Network, "The link broke right after the handshake."))
                : Inner.ReadFrameAsync(cancellationToken);

        public override async ValueTask DisposeAsync()
        {
            _disposed.TrySetResult();
            await base.DisposeAsync();
        }
    }

    /// <summary>The system clock, except that creating a connection's health timer waits until <paramref name="release"/>.</summary>
    private sealed class HealthTimerHeldUntil(Task release) : TimeProvider
    {
        private int _live;

        public bool HeldHealthTimer { get; private set; }

        public int LiveHealthTimers => Volatile.Read(ref _live);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (state is not ConnectionHealth)
            {
                return base.CreateTimer(callback, state, dueTime, period);
            }

            HeldHealthTimer = release.Wait(ConnectionTestKit.TestTimeout);
            Interlocked.Increment(ref _live);
            return new CountedTimer(base.CreateTimer(callback, state, dueTime, period), () => Interlocked.Decrement(ref _live));
        }

        private sealed class CountedTimer(ITimer inner, Action disposed) : ITimer
        {
            private int _disposed;

            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    disposed();
                }

                inner.Dispose();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return default;
            }
        }
    }
}
