using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's credit, both ways. Sending: the shared credit the peer granted for flows it has not acknowledged
/// yet. Receiving: the receive budget (every flow's window plus the shared credit this side grants must fit in
/// <see cref="ConnectionOptions.ReceiveBudget"/>) and the credit owed to the peer, which the writer sends with its
/// next record.
/// </summary>
/// <remarks>
/// The shared send credit and the pending releases are guarded by the connection's send lock (members ending in
/// <c>Locked</c>): the writer spends and reports them while building a record under it. The receive budget is
/// lock-free, so a flow's window can reserve from it under the flow's receive lock without taking the send lock.
/// </remarks>
internal sealed class CreditLedger
{
    // The most bytes one flow's credit takes in a Release message (two varints of at most ten bytes, and slack).
    private const int MaxBytesPerCredit = 22;
    private const int ReleaseOverhead = 16;

    private readonly ConnectionOptions _options;
    private readonly ConnectionCounters _counters;
    private readonly List<FlowCredit> _releases = [];
    private long _sharedSendCredit;
    private long _reserved;

    /// <param name="peerSharedCredit">What the peer lets this side send on flows before acknowledging them.</param>
    public CreditLedger(ConnectionOptions options, ConnectionCounters counters, long peerSharedCredit)
    {
        _options = options;
        _counters = counters;
        _sharedSendCredit = peerSharedCredit;

        // The shared credit this side grants the peer is held for the connection's whole life.
        _reserved = options.SharedCredit;
        counters.Reserved(options.SharedCredit);
    }

    /// <summary>Bytes a flow the peer opened may receive beyond its window: what it sent before its acknowledgement.</summary>
    public long AllowanceForRemoteFlows => _options.SharedCredit;

    // ---- receive budget (lock-free) ----

    /// <summary>Reserves a new flow's window: the initial window, or what is left of the budget, but at least the minimum.</summary>
    public int ReserveWindow()
    {
        var available = _options.ReceiveBudget - Interlocked.Read(ref _reserved);
        var window = (int)Math.Clamp(available, _options.MinFlowWindow, _options.InitialFlowWindow);
        Interlocked.Add(ref _reserved, window);
        _counters.Reserved(window);
        return window;
    }

    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _reserved);
            if (current + bytes > _options.ReceiveBudget)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _reserved, current + bytes, current) == current)
            {
                _counters.Reserved(bytes);
                return true;
            }
        }
    }

    public void Unreserve(long bytes)
    {
        Interlocked.Add(ref _reserved, -bytes);
        _counters.Reserved(-bytes);
    }

    /// <summary>The connection closed: the shared credit it granted is no longer held.</summary>
    public void ReleaseSharedCredit() => Unreserve(_options.SharedCredit);

    // ---- shared send credit (send lock) ----

    public long SharedSendCreditLocked => _sharedSendCredit;

    /// <summary>An unacknowledged flow sent <paramref name="bytes"/>.</summary>
    public void SpendSharedLocked(int bytes) => _sharedSendCredit -= bytes;

    /// <summary>
    /// Gives back shared credit an unacknowledged flow spent (it was acknowledged or refused). True when the credit
    /// had run out and is available again: only then can other flows be waiting for it.
    /// </summary>
    public bool ReturnSharedLocked(long bytes)
    {
        var wasExhausted = _sharedSendCredit <= 0;
        _sharedSendCredit += bytes;
        return wasExhausted && _sharedSendCredit > 0;
    }

    // ---- credit owed to the peer (send lock) ----

    public bool HasReleasesLocked => _releases.Count > 0;

    public void QueueReleaseLocked(ulong flowId, long bytes) => _releases.Add(new FlowCredit(flowId, (ulong)bytes));

    /// <summary>Writes the owed credit as one Release message of at most <paramref name="maxBytes"/>; the rest waits for the next record.</summary>
    public void WriteReleasesLocked(MemoryBufferWriter writer, int maxBytes)
    {
        if (_releases.Count == 0)
        {
            return;
        }

        var take = Math.Min(_releases.Count, (maxBytes - ReleaseOverhead) / MaxBytesPerCredit);
        var batch = take == _releases.Count ? _releases.ToArray() : _releases.GetRange(0, take).ToArray();
        _releases.RemoveRange(0, take);
        MessageCodec.Write(writer, new Release(batch));
    }

    public void ClearReleasesLocked() => _releases.Clear();
}
