using FlowOrleans.Transport.Flows;
using Microsoft.Extensions.Time.Testing;

namespace FlowOrleans.Tests.Flows;

/// <summary>One flow's receive window on its own, on a fake clock: release batching, growth, shrinking, the budget.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ReceiveWindowTests
{
    private const int Initial = 64 * 1024;
    private const int Max = 1024 * 1024;
    private static readonly TimeSpan MinRtt = TimeSpan.FromMicroseconds(100);

    private readonly FakeTimeProvider _clock = new();
    private readonly Host _host;

    public ReceiveWindowTests()
    {
        _host = new Host(_clock, limit: 64L * 1024 * 1024);
    }

    [Fact]
    public void CreditGoesBackAQuarterWindowAtATimeAndWakesTheWriterEveryHalf()
    {
        var window = NewWindow();

        Assert.Equal(0, window.OnConsumed(Initial / 4 - 1, _host, out var wake));
        Assert.False(wake);
        Assert.Equal(Initial / 4, window.OnConsumed(1, _host, out wake));
        Assert.False(wake);
        Assert.Equal(Initial / 4, window.OnConsumed(Initial / 4, _host, out wake));
        Assert.True(wake);
    }

    [Fact]
    public void ThePeerMaySendItsGrantPlusWhatTheSharedCreditCoversAndNoMore()
    {
        var host = new Host(_clock, limit: 64L * 1024 * 1024, sharedCredit: 0);
        var window = NewWindow();
        Assert.True(window.TryReceive(Initial, host));
        Assert.False(window.TryReceive(1, host));

        // Bytes beyond the grant are the peer's debt, drawn on the connection's shared credit.
        var shared = new Host(_clock, limit: 64L * 1024 * 1024, sharedCredit: 1000);
        var withShared = NewWindow();
        Assert.True(withShared.TryReceive(Initial + 600, shared));
        Assert.Equal(600, withShared.Debt);
        Assert.Equal(600, shared.Drawn);
        Assert.False(withShared.TryReceive(401, shared));

        // Released credit pays the debt first and extends the grant.
        var reading = NewWindow();
        Assert.True(reading.TryReceive(Initial + 300, shared));
        Assert.Equal(900, shared.Drawn); // counted once for the connection, across its windows
        var released = reading.OnConsumed(Initial, shared, out _);
        Assert.Equal(0, reading.Debt);
        Assert.Equal(600, shared.Drawn); // only the other window's debt is left
        Assert.True(reading.TryReceive((int)released - 300, host));
        Assert.False(reading.TryReceive(1, host));
    }

    [Fact]
    public void SettlingADebtReturnsItToTheSharedCreditAndCountsItAsGranted()
    {
        var shared = new Host(_clock, limit: 64L * 1024 * 1024, sharedCredit: 10_000);
        var window = NewWindow();
        Assert.True(window.TryReceive(Initial + 4_000, shared));

        Assert.Equal(4_000, window.SettleDebt(shared));
        Assert.Equal(0, shared.Drawn);
        Assert.Equal(0, window.Debt);
        Assert.Equal(0, window.SettleDebt(shared));
    }

    [Fact]
    public void AWindowThatKeepsAStarvedReaderWaitingDoublesUpToTheMaximum()
    {
        var window = NewWindow();
        var size = Initial;
        while (size < Max)
        {
            ConsumeWholeWindow(ref window, _host, starved: true, took: MinRtt);
            Assert.Equal(size * 2, window.Size);
            size *= 2;
        }

        ConsumeWholeWindow(ref window, _host, starved: true, took: MinRtt);
        Assert.Equal(Max, window.Size);
        Assert.Equal(Max, window.Reservation);
        Assert.Equal(Max, _host.Reserved);
    }

    [Theory]
    [InlineData(false, 100)] // the reader never waited: it is the bottleneck, not the window
    [InlineData(true, 250)] // a window took longer than two round trips: it already covers the path
    public void AWindowDoesNotGrowWhenItIsNotWhatHoldsTheReaderBack(bool starved, int microseconds)
    {
        var window = NewWindow();
        ConsumeWholeWindow(ref window, _host, starved, TimeSpan.FromMicroseconds(microseconds));
        ConsumeWholeWindow(ref window, _host, starved, TimeSpan.FromMicroseconds(microseconds));
        Assert.Equal(Initial, window.Size);
    }

    [Fact]
    public void AWindowGrowsOnlyByWhatTheBudgetCanReserve()
    {
        var host = new Host(_clock, limit: Initial + 1000);
        Assert.True(host.TryReserve(Initial));
        var window = new ReceiveWindow(Initial, _clock.GetTimestamp());
        ConsumeWholeWindow(ref window, host, starved: true, took: MinRtt);
        ConsumeWholeWindow(ref window, host, starved: true, took: MinRtt);
        Assert.Equal(Initial, window.Size);
    }

    [Fact]
    public void BesideMessageTrafficTheWindowShrinksByKeepingCreditBackAndGrowsBackAfter()
    {
        var window = NewWindow();
        const int limit = 16 * 1024;

        // A quarter window consumed: the whole release is kept back until the window is down to the limit.
        _host.WindowLimit = limit;
        Assert.Equal(0, window.OnConsumed(Initial / 4, _host, out _));
        Assert.Equal(Initial - Initial / 4, window.Size);
        Assert.Equal(window.Size, window.Reservation);
        while (window.Size > limit)
        {
            window.OnConsumed(window.Size / 4 + 1, _host, out _);
        }

        Assert.Equal(limit, window.Size);
        Assert.Equal(limit, window.Reservation);
        Assert.Equal(limit, _host.Reserved);

        // The limit lifts: the next release grows the window back to its tuned size.
        _host.WindowLimit = int.MaxValue;
        var grown = window.OnConsumed(limit / 4, _host, out _);
        Assert.Equal(Initial, window.Size);
        Assert.Equal(limit / 4 + (Initial - limit), grown);
    }

    [Fact]
    public void ReturningTheReservationGivesItBackToTheBudget()
    {
        var window = NewWindow();
        window.ReturnReservation(1000, _host);
        Assert.Equal(Initial - 1000, window.Reservation);
        Assert.Equal(Initial - 1000, _host.Reserved);
        window.ReturnReservation(0, _host);
        window.ReturnReservation(window.Reservation, _host);
        Assert.Equal(0, _host.Reserved);
    }

    private ReceiveWindow NewWindow()
    {
        Assert.True(_host.TryReserve(Initial)); // the connection reserves a new flow's initial window
        return new ReceiveWindow(Initial, _clock.GetTimestamp());
    }

    /// <summary>The application reads a whole window in <paramref name="took"/>, having waited for data when <paramref name="starved"/>.</summary>
    private void ConsumeWholeWindow(ref ReceiveWindow window, Host host, bool starved, TimeSpan took)
    {
        if (starved)
        {
            window.OnReaderWaiting();
        }

        _clock.Advance(took);
        var left = (long)window.Size;
        while (left > 0)
        {
            var quarter = Math.Min(left, window.Size / 4);
            window.OnConsumed(quarter, host, out _);
            left -= quarter;
        }
    }

    /// <summary>A connection as a window sees it: a budget, shared credit, the fake clock, and limits the test sets.</summary>
    private sealed class Host(TimeProvider clock, long limit, long sharedCredit = 0) : IReceiveWindowHost
    {
        public long Reserved { get; private set; }

        public long Drawn { get; private set; }

        public TimeProvider TimeProvider => clock;

        public int MaxFlowWindow => Max;

        public int WindowLimit { get; set; } = int.MaxValue;

        public TimeSpan MinRtt => ReceiveWindowTests.MinRtt;

        public bool TryReserve(long bytes)
        {
            if (Reserved + bytes > limit)
            {
                return false;
            }

            Reserved += bytes;
            return true;
        }

        public void Unreserve(long bytes, long remaining) => Reserved -= bytes;

        public bool TryDrawShared(long bytes)
        {
            if (Drawn + bytes > sharedCredit)
            {
                return false;
            }

            Drawn += bytes;
            return true;
        }

        public void ReturnShared(long bytes) => Drawn -= bytes;
    }
}
