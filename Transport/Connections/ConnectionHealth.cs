using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's health checks: it pings the peer after a quiet spell (and as flows return credit, when the last
/// sample is stale), learns the round-trip time from the answers, and closes the connection when the peer has been
/// silent past the channel timeout. One ping is outstanding at a time.
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
    private ITimer? _timer; // and _stopped: guarded by the send lock, since Start and Stop may race
    private bool _stopped;
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

    /// <summary>
    /// Starts the health timer (it counts as one of the connection's loops until stopped) and takes a first sample.
    /// Does nothing once <see cref="Stop"/> ran: the read loop starts first and may already have closed the connection.
    /// </summary>
    public void Start()
    {
        var interval = _options.EffectiveHealthCheckInterval;
        var period = interval / 2 > TimeSpan.Zero ? interval / 2 : interval;
        var timer = _time.CreateTimer(static s => ((ConnectionHealth)s!).OnTimer(), this, period, period);
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
        if (silent >= _options.ChannelTimeout)
        {
            _onSilent(silent);
        }
        else if (silent >= _options.EffectiveHealthCheckInterval)
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

        _wakeWriter();
    }

    /// <summary>Flow data bytes sent and received so far: a sample is clean when this did not change during it.</summary>
    private long DataMoved() => _counters.BytesSent + _counters.BytesReceived;
}
