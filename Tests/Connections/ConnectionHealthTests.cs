using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using Microsoft.Extensions.Time.Testing;

namespace FlowOrleans.Tests.Connections;

/// <summary>Health checks on their own, on a fake clock: pings, RTT samples, and the channel timeout.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionHealthTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ConnectionCounters _counters = new();
    private readonly SendQueue _queue;
    private readonly ConnectionHealth _health;
    private readonly List<TimeSpan> _silences = [];
    private int _wakes;

    public ConnectionHealthTests()
    {
        var options = new ConnectionOptions { TimeProvider = _clock, ChannelTimeout = TimeSpan.FromSeconds(30) };
        _queue = new SendQueue(new CreditLedger(options, _counters, peerSharedCredit: 0), _counters);
        _health = new ConnectionHealth(_queue, options, _counters, () => _wakes++, _silences.Add);
    }

    [Fact]
    public void StartingSendsAPingAndAnswersGiveTheRoundTrip()
    {
        _health.Start();
        Assert.Equal(1, _wakes);
        var ping = NextPing();

        _clock.Advance(TimeSpan.FromMilliseconds(3));
        _health.OnResponse(ping.Nonce);
        Assert.Equal(TimeSpan.FromMilliseconds(3), _health.Rtt);
        Assert.Equal(TimeSpan.FromMilliseconds(3), _health.MinRtt);
    }

    [Fact]
    public void AFewSamplesAreTakenRightAwayThenPingsWaitForQuiet()
    {
        _health.Start();
        for (var sample = 0; sample < 3; sample++)
        {
            var ping = NextPing();
            _clock.Advance(TimeSpan.FromMilliseconds(3 - sample));
            _health.OnResponse(ping.Nonce);
        }

        Assert.Null(TryNextPing());
        Assert.Equal(TimeSpan.FromMilliseconds(1), _health.MinRtt);
    }

    [Fact]
    public void AnAnswerToAnotherPingIsIgnored()
    {
        _health.Start();
        var ping = NextPing();
        _clock.Advance(TimeSpan.FromMilliseconds(3));
        _health.OnResponse(ping.Nonce + 1);
        Assert.Equal(TimeSpan.Zero, _health.Rtt);

        _health.OnResponse(ping.Nonce);
        _health.OnResponse(ping.Nonce); // a duplicate answer changes nothing
        Assert.Equal(TimeSpan.FromMilliseconds(3), _health.Rtt);
    }

    [Fact]
    public void ASampleDuringWhichDataMovedIsTheLatestButNotTheMinimum()
    {
        _health.Start();
        var ping = NextPing();
        _clock.Advance(TimeSpan.FromMilliseconds(2));
        _counters.Sent(1000);
        _health.OnResponse(ping.Nonce);

        Assert.Equal(TimeSpan.FromMilliseconds(2), _health.Rtt);
        Assert.Equal(TimeSpan.Zero, _health.MinRtt);
    }

    [Fact]
    public void APeerSilentPastTheChannelTimeoutIsReportedAndOneThatSpeaksIsNot()
    {
        _health.Start();
        NextPing();
        for (var i = 0; i < 12; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(5));
            _health.OnFrameReceived();
        }

        Assert.Empty(_silences);
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.NotEmpty(_silences);
        Assert.True(_silences[0] >= TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void AQuietConnectionIsPingedAfterTheHealthCheckInterval()
    {
        _health.Start();
        for (var sample = 0; sample < 3; sample++)
        {
            _health.OnResponse(NextPing().Nonce);
        }

        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Null(TryNextPing()); // 5 s of silence: not yet (interval 10 s)
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(TryNextPing());
    }

    [Fact]
    public void ABusyConnectionRefreshesAStaleSampleOnlyOnceASecond()
    {
        _health.Start();
        for (var sample = 0; sample < 3; sample++)
        {
            _health.OnResponse(NextPing().Nonce);
        }

        _health.RefreshIfStale();
        Assert.Null(TryNextPing());
        _clock.Advance(TimeSpan.FromSeconds(1));
        _health.RefreshIfStale();
        Assert.NotNull(TryNextPing());
    }

    [Fact]
    public void NoPingIsQueuedOnceTheConnectionIsClosingAndStoppingEndsTheTimer()
    {
        lock (_queue.Lock)
        {
            _queue.TryBeginClosingLocked(tearDown: null);
        }

        _health.Start();
        Assert.Null(TryNextPing());
        Assert.Equal(1, _counters.RunningLoops);
        _health.Stop();
        _health.Stop();
        Assert.Equal(0, _counters.RunningLoops);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty(_silences);
    }

    [Fact]
    public void AFlowsShorterChannelTimeoutAppliesWhileItIsOpenAsInVanadium()
    {
        // Vanadium: a flow dialed with a channel timeout shorter than its connection's shortens the connection's health
        // checks; once no such flow is open, the connection's own timeout is back.
        _health.Start();
        for (var sample = 0; sample < 3; sample++)
        {
            _health.OnResponse(NextPing().Nonce);
        }

        _health.AddFlowTimeout(TimeSpan.FromSeconds(6));
        _health.AddFlowTimeout(TimeSpan.FromSeconds(6));
        _health.AddFlowTimeout(TimeSpan.FromMinutes(5)); // longer than the connection's: changes nothing
        Assert.Equal(TimeSpan.FromSeconds(6), _health.ChannelTimeout);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(TryNextPing()); // pinged after a third of the flow's timeout, not the connection's 10 s
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.NotEmpty(_silences);

        _health.RemoveFlowTimeout(TimeSpan.FromSeconds(6));
        Assert.Equal(TimeSpan.FromSeconds(6), _health.ChannelTimeout); // another flow still asks for it
        _health.RemoveFlowTimeout(TimeSpan.FromSeconds(6));
        Assert.Equal(TimeSpan.FromSeconds(30), _health.ChannelTimeout);
        _silences.Clear();
        _health.OnFrameReceived();
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Empty(_silences);
    }

    private HealthCheckRequest NextPing() => TryNextPing() ?? throw new Xunit.Sdk.XunitException("No ping was queued.");

    private HealthCheckRequest? TryNextPing()
    {
        lock (_queue.Lock)
        {
            return _queue.TryDequeueControlLocked(1000, out var message) ? Assert.IsType<HealthCheckRequest>(message) : null;
        }
    }
}
