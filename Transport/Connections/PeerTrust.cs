namespace FlowOrleans.Transport.Connections;

/// <summary>
/// What a connection still grants its peer after the handshake: whether the peer may open flows here (the acceptor
/// authorizer's verdict), and until when the blessings it was accepted under hold (their earliest expiry). Both were
/// settled by the handshake, before the read loop started, so admitting a flow reads a field and the clock, never
/// waits; a timer on the connection's clock reports the expiry, and <see cref="HasExpired"/> keeps a connection whose
/// timer is late from being reused. A discharge refresh judges the peer again and <see cref="Renew"/>s both.
/// </summary>
internal sealed class PeerTrust : IDisposable
{
    /// <summary>What a peer whose flows are refused is told (with <see cref="FlowErrorCode.NotTrusted"/>); the policy stays local.</summary>
    public const string FlowsRefused = "This side does not accept flows from this peer.";

    // Timers take at most about 49 days; a later expiry re-arms the timer when it fires.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _notAfterTicks;
    private bool _peerMayOpenFlows;
    private ITimer? _timer;
    private Action? _onExpired;
    private bool _disposed;

    public PeerTrust(bool peerMayOpenFlows, DateTimeOffset? notAfter, TimeProvider time)
    {
        _peerMayOpenFlows = peerMayOpenFlows;
        _time = time;
        _notAfterTicks = notAfter?.UtcTicks ?? long.MaxValue;
    }

    /// <summary>Whether flows the peer opens may be delivered to this side's acceptor.</summary>
    public bool PeerMayOpenFlows => Volatile.Read(ref _peerMayOpenFlows);

    /// <summary>The last instant the peer's blessings hold (caveats hold up to and including it); null: forever.</summary>
    public DateTimeOffset? NotAfter => Volatile.Read(ref _notAfterTicks) is var ticks && ticks != long.MaxValue
        ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : null;

    /// <summary>True once the clock has passed <see cref="NotAfter"/>.</summary>
    public bool HasExpired => Volatile.Read(ref _notAfterTicks) is var ticks && ticks != long.MaxValue && _time.GetUtcNow().UtcTicks > ticks;

    /// <summary>The error a connection closes with when the blessings expired; the peer sees its code and this text.</summary>
    public FlowException ExpiredError() =>
        new(FlowErrorCode.NotTrusted, $"The blessings the connection was accepted under expired at {NotAfter:O}.");

    /// <summary>Calls <paramref name="onExpired"/> once the clock passes <see cref="NotAfter"/> (never, while it is null).</summary>
    public void Watch(Action onExpired)
    {
        Volatile.Write(ref _onExpired, onExpired);
        Arm();
    }

    /// <summary>
    /// The peer was judged again with fresh discharges (<see cref="DischargeRefresh"/>): whether it may open flows and
    /// until when its names hold are now these, later or earlier than before.
    /// </summary>
    public void Renew(bool peerMayOpenFlows, DateTimeOffset? notAfter)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            Volatile.Write(ref _peerMayOpenFlows, peerMayOpenFlows);
            Volatile.Write(ref _notAfterTicks, notAfter?.UtcTicks ?? long.MaxValue);
            _timer?.Change(Wait(), Timeout.InfiniteTimeSpan);
        }

        Arm();
    }

    /// <summary>Starts the expiry timer once there is an expiry and someone to tell.</summary>
    private void Arm()
    {
        lock (_lock)
        {
            if (_timer is not null || _disposed || NotAfter is null || _onExpired is null)
            {
                return;
            }
        }

        // Created outside the lock: a timer already due may fire on this thread, before CreateTimer returns.
        var timer = _time.CreateTimer(static state => ((PeerTrust)state!).OnTimer(), this, Wait(), Timeout.InfiniteTimeSpan);
        lock (_lock)
        {
            if (!_disposed && _timer is null)
            {
                _timer = timer;
                return;
            }
        }

        timer.Dispose();
    }

    private void OnTimer()
    {
        Action? expired;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (!HasExpired)
            {
                _timer?.Change(Wait(), Timeout.InfiniteTimeSpan); // a long expiry, or a timer that fired early
                return;
            }

            expired = _onExpired;
        }

        expired?.Invoke();
    }

    private TimeSpan Wait()
    {
        var notAfter = Volatile.Read(ref _notAfterTicks);
        if (notAfter == long.MaxValue)
        {
            return LongestWait; // no expiry now (a renewal removed it): the timer only re-checks
        }

        var ticks = notAfter - _time.GetUtcNow().UtcTicks + 1;
        return ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(ticks, LongestWait.Ticks));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }
    }
}
