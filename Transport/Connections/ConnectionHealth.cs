using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's health checks: it pings the peer after a quiet spell (and as flows return credit, when the last
/// sample is stale), learns the round-trip time from the answers, and closes the connection when the peer has been
/// silent past the channel timeout. One ping is outstanding at a time. As in Vanadium, a flow opened with a shorter
/// channel timeout than the connection's shortens it (and the ping interval) while the flow is open.
/// </summary>
/// <remarks>The ping state is guarded by the connection's send lock, under which the ping is queued.</remarks>
internal sealed class ConnectionHealth
{
    private static readonly TimeSpan RttRefreshInterval = TimeSpan.FromSeconds(1);

    // The first sample is taken right after the handshake, while the peer may still be starting up (and, in a fresh
    // process, compiling the data path): a few more right away give window tuning a realistic minimum.
    private const int StartupRttSamples = 3;

    private readonly SendQueue _queue;
    private readonly Action _wakeWriter;
    private readonly Action<TimeSpan> _onSilent;
    private readonly ConnectionOptions _options;
    private readonly ConnectionCounters _counters;
    private readonly TimeProvider _time;
    private readonly RttEstimator _rtt = new();
    private readonly Lock _timeoutsLock = new();
    private readonly Dictionary<TimeSpan, int> _flowTimeouts = []; // open flows' own channel timeouts, by count
    private ITimer? _timer; // and _stopped: guarded by the send lock, since Start and Stop may race
    private bool _stopped;
    private TimeSpan _period; // guarded by _timeoutsLock
    private long _lastReceived;
    private long _sampledAt;
    private int _samples;
    private ulong _nonce;
    private long _sentAt;
    private long _dataMark;

    /// <param name="queue">Where pings are queued, under its lock.</param>
    /// <param name="wakeWriter">Wakes the writer for a queued ping.</param>
    /// <param name="onSilent">The peer was silent past the channel timeout for the given time: close the connection.</param>
    public ConnectionHealth(SendQueue queue, ConnectionOptions options, ConnectionCounters counters, Action wakeWriter, Action<TimeSpan> onSilent)
    {
        _queue = queue;
        _wakeWriter = wakeWriter;
        _onSilent = onSilent;
        _options = options;
        _counters = counters;
        _time = options.TimeProvider;
        _lastReceived = _time.GetTimestamp();
    }

    /// <summary>The latest round trip, queueing included; zero until one was measured.</summary>
    public TimeSpan Rtt => _rtt.Latest;

    /// <summary>The smallest round trip measured while no data moved: what window tuning goes by.</summary>
    public TimeSpan MinRtt => _rtt.Min;

    /// <summary>The channel timeout in force: the connection's, or the shortest an open flow asked for.</summary>
    public TimeSpan ChannelTimeout
    {
        get
        {
            var timeout = _options.ChannelTimeout;
            lock (_timeoutsLock)
            {
                foreach (var flowTimeout in _flowTimeouts.Keys)
                {
                    timeout = flowTimeout < timeout ? flowTimeout : timeout;
                }
            }

            return timeout;
        }
    }

    /// <summary>
    /// A flow asking for <paramref name="timeout"/> opened: the checks run often enough for it from now on. Timeouts
    /// that are not positive, or not shorter than the connection's, change nothing (here and in <see cref="RemoveFlowTimeout"/>).
    /// </summary>
    public void AddFlowTimeout(TimeSpan timeout)
    {
        if (!Shortens(timeout))
        {
            return;
        }

        lock (_timeoutsLock)
        {
            _flowTimeouts[timeout] = _flowTimeouts.GetValueOrDefault(timeout) + 1;
            var period = PeriodFor(IntervalFor(timeout));
            if (period < _period)
            {
                _period = period;
                _timer?.Change(period, period);
            }
        }
    }

    /// <summary>That flow closed: its timeout no longer applies (the checks keep their pace, which only makes them prompter).</summary>
    public void RemoveFlowTimeout(TimeSpan timeout)
    {
        if (!Shortens(timeout))
        {
            return;
        }

        lock (_timeoutsLock)
        {
            if (_flowTimeouts.TryGetValue(timeout, out var count) && count > 1)
            {
                _flowTimeouts[timeout] = count - 1;
            }
            else
            {
                _flowTimeouts.Remove(timeout);
            }
        }
    }

    private bool Shortens(TimeSpan timeout) => timeout > TimeSpan.Zero && timeout < _options.ChannelTimeout;

    /// <summary>Pings after this much silence: the configured interval, shortened to a third of a shorter channel timeout.</summary>
    private TimeSpan IntervalFor(TimeSpan channelTimeout) =>
        channelTimeout / 3 < _options.EffectiveHealthCheckInterval
            ? channelTimeout / 3
            : _options.EffectiveHealthCheckInterval;

    private static TimeSpan PeriodFor(TimeSpan interval) => interval / 2 > TimeSpan.Zero ? interval / 2 : interval;

    /// <summary>
    /// Starts the health timer (it counts as one of the connection's loops until stopped) and takes a first sample.
    /// Does nothing once <see cref="Stop"/> ran: the read loop starts first and may already have closed the connection.
    /// </summary>
    public void Start()
    {
        ITimer? timer;
        lock (_timeoutsLock)
        {
            _period = PeriodFor(IntervalFor(ChannelTimeout));
            timer = _time.CreateTimer(static s => ((ConnectionHealth)s!).OnTimer(), this, _period, _period);
        }

        lock (_queue.Lock)
        {
            if (!_stopped)
            {
                _timer = timer;
                _counters.LoopStarted();
                timer = null;
            }
        }

        if (timer is not null)
        {
            timer.Dispose();
            return;
        }

        SendPing(); // an early RTT sample; window tuning uses it
    }

    public void Stop()
    {
        ITimer? timer;
        lock (_queue.Lock)
        {
            _stopped = true;
            timer = _timer;
            _timer = null;
        }

        if (timer is not null)
        {
            timer.Dispose();
            _counters.LoopStopped();
        }
    }

    /// <summary>The read loop got a frame: the peer is alive.</summary>
    public void OnFrameReceived() => Volatile.Write(ref _lastReceived, _time.GetTimestamp());

    public void OnResponse(ulong nonce)
    {
        bool again;
        lock (_queue.Lock)
        {
            if (nonce != _nonce || _sentAt == 0)
            {
                return;
            }

            _rtt.OnSample(_time.GetElapsedTime(_sentAt), dataMoved: DataMoved() != _dataMark);
            _sentAt = 0;
            Volatile.Write(ref _sampledAt, _time.GetTimestamp());
            again = ++_samples < StartupRttSamples;
        }

        if (again)
        {
            SendPing();
        }
    }

    /// <summary>
    /// Asks for a new sample when the last one is older than <see cref="RttRefreshInterval"/>: called as flows return
    /// credit, so a busy connection keeps learning its RTT (a path may get faster) without pinging when idle.
    /// </summary>
    public void RefreshIfStale()
    {
        var sampledAt = Volatile.Read(ref _sampledAt);
        if (sampledAt != 0 && _time.GetElapsedTime(sampledAt) >= RttRefreshInterval)
        {
            SendPing();
        }
    }

    private void OnTimer()
    {
        var silent = _time.GetElapsedTime(Volatile.Read(ref _lastReceived));
        var timeout = ChannelTimeout;
        if (silent >= timeout)
        {
            _onSilent(silent);
        }
        else if (silent >= IntervalFor(timeout))
        {
            SendPing();
        }
    }

    private void SendPing()
    {
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked || _sentAt != 0)
            {
                return;
            }

            _nonce++;
            _sentAt = _time.GetTimestamp();
            _dataMark = DataMoved();
            _queue.EnqueueControlLocked(new HealthCheckRequest(_nonce));
        }

        _counters.HealthCheckSent();

        _wakeWriter();
    }

    /// <summary>Flow data bytes sent and received so far: a sample is clean when this did not change during it.</summary>
    private long DataMoved() => _counters.BytesSent + _counters.BytesReceived;
}
