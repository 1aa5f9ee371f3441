namespace FlowOrleans.Transport.Flows;

/// <summary>
/// One flow's receive window: how much the peer may send ahead of the application's reads. Credit goes back to the
/// peer as the application consumes (batched, a quarter window at a time), the window doubles while it is what holds
/// a starved reader back (<see cref="WindowTuning"/>), and it shrinks to the connection's limit beside message traffic
/// by keeping back part of a release (credit the peer already holds is never taken back). Every byte the window grows
/// by is reserved from the connection's receive budget first. Bytes the peer sends beyond the credit granted (before
/// it learnt the window, or a whole message overdrawing it) are its debt, covered by the connection's shared credit
/// until credit granted since covers them or the flow settles them (docs/architecture.md, 3.4).
/// </summary>
/// <remarks>
/// Pure logic plus a clock, both reached through the <see cref="IReceiveWindowHost"/> each call is given. A struct that
/// lives inside its flow, since an idle flow's memory counts; the flow calls it, by reference, under its receive lock.
/// </remarks>
internal struct ReceiveWindow
{
    // Counts within a window (at most MaxFlowWindow plus one read of buffered bytes) are ints: a struct that lives in
    // every flow is kept small.
    private long _received;
    private long _granted;
    private int _toRelease;
    private int _releasedUnsignalled;
    private int _tuned;
    private long _epochStart;
    private int _epochBytes;
    private bool _starved;

    /// <param name="initial">The window the connection reserved for the flow.</param>
    /// <param name="now">The host clock's timestamp now: the first tuning epoch starts here.</param>
    public ReceiveWindow(int initial, long now)
    {
        Size = initial;
        _tuned = initial;
        Reservation = initial;
        _granted = initial;
        _epochStart = now;
    }

    /// <summary>
    /// The window now: the auto-tuned size held to the connection's limit. Written under the flow's receive lock;
    /// the connection's writer reads it, unlocked, only to announce a new flow's initial window.
    /// </summary>
    public int Size { readonly get; private set; }

    /// <summary>Bytes of the connection's receive budget this window holds.</summary>
    public long Reservation { readonly get; private set; }

    /// <summary>The peer's debt: bytes received beyond the credit granted, held on the connection's shared credit.</summary>
    public readonly long Debt => Math.Max(0, _received - _granted);

    /// <summary>
    /// Counts <paramref name="length"/> received bytes; false when they go beyond the credit granted and the connection's
    /// shared credit cannot cover the excess either (the peer overran its credit).
    /// </summary>
    public bool TryReceive(int length, IReceiveWindowHost host)
    {
        var debt = Debt;
        _received += length;
        var drawn = Debt - debt;
        return drawn == 0 || host.TryDrawShared(drawn);
    }

    /// <summary>
    /// Settles the peer's debt: the bytes behind it were read or dropped, and no more credit will be granted that could
    /// cover it. Returns it to the shared credit here and reports it, for the caller to release to the peer when the
    /// peer expects that (it finished sending) rather than writing the debt off itself (this side reset the flow).
    /// </summary>
    public long SettleDebt(IReceiveWindowHost host)
    {
        var debt = Debt;
        if (debt > 0)
        {
            _granted += debt;
            host.ReturnShared(debt);
        }

        return debt;
    }

    /// <summary>The reader had to wait for data: if the window keeps it waiting, it is too small.</summary>
    public void OnReaderWaiting() => _starved = true;

    /// <summary>
    /// The application consumed <paramref name="read"/> bytes: returns the credit to release to the peer now (zero
    /// while less than a quarter window is due), and whether it is worth waking the connection's writer for
    /// (<paramref name="wakeWriter"/>: every half window; in between, credit rides with whatever record goes out next).
    /// It cannot stall the sender: while it waits with no credit and this side has read everything, the credit not yet
    /// on its way is at least three quarters of the window, so the writer was woken.
    /// </summary>
    public long OnConsumed(long read, IReceiveWindowHost host, out bool wakeWriter)
    {
        wakeWriter = false;
        _toRelease = (int)Math.Min(_toRelease + read, int.MaxValue);
        if (_toRelease < Size / 4)
        {
            return 0;
        }

        var consumed = _toRelease;
        _toRelease = 0;
        var release = consumed + Adjust(consumed, host);
        var debt = Debt;
        _granted += release;
        if (debt > 0)
        {
            host.ReturnShared(debt - Debt);
        }

        _releasedUnsignalled = (int)Math.Min(_releasedUnsignalled + release, int.MaxValue);
        if (_releasedUnsignalled >= Size / 2)
        {
            _releasedUnsignalled = 0;
            wakeWriter = true;
        }

        return release;
    }

    /// <summary>Gives back <paramref name="bytes"/> of the reservation (data the peer will never send, or was read after it closed).</summary>
    public void ReturnReservation(long bytes, IReceiveWindowHost host)
    {
        if (bytes > 0)
        {
            Reservation -= bytes;
            host.Unreserve(bytes, Reservation);
        }
    }

    /// <summary>How much to add to a release of <paramref name="consumed"/> bytes; negative to keep some back.</summary>
    private long Adjust(long consumed, IReceiveWindowHost host)
    {
        Tune(consumed, host);
        var target = Math.Min(_tuned, host.WindowLimit);
        if (target < Size)
        {
            var shrink = (int)Math.Min(Size - target, consumed);
            Size -= shrink;
            ReturnReservation(shrink, host);
            return -shrink;
        }

        var growth = target - Size;
        if (growth == 0 || !host.TryReserve(growth))
        {
            return 0;
        }

        Size += growth;
        Reservation += growth;
        return growth;
    }

    /// <summary>Doubles the tuned size after a whole window went by that was too small for the link.</summary>
    private void Tune(long consumed, IReceiveWindowHost host)
    {
        _epochBytes = (int)Math.Min(_epochBytes + consumed, int.MaxValue);
        if (_epochBytes < Size)
        {
            return;
        }

        var clock = host.TimeProvider;
        var now = clock.GetTimestamp();
        var elapsed = clock.GetElapsedTime(_epochStart, now);
        var starved = _starved;
        _epochStart = now;
        _epochBytes = 0;
        _starved = false;

        // Only a window that was not held down says anything about the link.
        if (Size == _tuned && WindowTuning.ShouldGrow(elapsed, host.MinRtt, starved))
        {
            _tuned = Math.Min(_tuned * 2, host.MaxFlowWindow);
        }
    }
}
