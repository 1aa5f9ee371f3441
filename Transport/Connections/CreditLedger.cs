using System.Runtime.InteropServices;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's credit, both ways (docs/architecture.md, 3.4). Sending: the shared credit the peer granted, which
/// this side's flows draw on for bytes beyond their own credit (their debts, including those of flows that left the
/// table before the peer settled them). Receiving: the receive budget, which every flow's window and the shared credit
/// this side grants must fit in, exactly; the peer's draws on that shared credit; and the credit owed to the peer, one
/// release per flow, which the writer sends with its next record.
/// </summary>
/// <remarks>
/// The send side and the releases owed are guarded by the connection's send lock (members ending in <c>Locked</c>): the
/// writer spends and reports them while building a record under it. The receive budget has a small lock of its own,
/// taken under a flow's receive lock and never holding anything else, so a window reserves without the send lock. It
/// holds exactly because room for the <see cref="ConnectionOptions.MinFlowWindow"/> of every flow the connection may
/// still open stays free (validation makes sure it fits): a window only grows into what is left above that, and is
/// charged at least the minimum until it holds nothing.
/// </remarks>
internal sealed class CreditLedger
{
    /// <summary>What a release owed for one flow counts against the control budget: the entry, and its encoding.</summary>
    public const int ReleaseEntryCost = 48;

    // The most bytes one flow's credit takes in a Release message (two varints of at most ten bytes, and slack).
    private const int MaxBytesPerCredit = 22;
    private const int ReleaseOverhead = 16;

    private readonly ConnectionOptions _options;
    private readonly ConnectionCounters _counters;
    private readonly ReceiveBudgetPool? _managerBudget;
    private readonly Lock _budgetLock = new();
    private readonly Dictionary<ulong, long> _releases = [];
    private readonly Dictionary<ulong, long> _leftDebts = [];
    private long _reserved;
    private int _windows;
    private long _peerDrawn;
    private long _sharedSendCredit;
    private bool _sharedWaiters;
    private bool _holdsManagerShare;
    private long _ridingAckBytes;

    /// <param name="peerSharedCredit">What the peer lets this side send beyond its flows' own credit.</param>
    /// <param name="managerBudget">The budget of every connection of the manager, or null when there is none.</param>
    public CreditLedger(ConnectionOptions options, ConnectionCounters counters, long peerSharedCredit, ReceiveBudgetPool? managerBudget = null)
    {
        _options = options;
        _counters = counters;
        _managerBudget = managerBudget;
        _sharedSendCredit = peerSharedCredit;

        // The shared credit this side grants the peer is held for the connection's whole life.
        _reserved = options.SharedCredit;
        counters.Reserved(options.SharedCredit);
    }

    /// <summary>Sets the shared credit this side grants aside in the manager's budget; false when it has no room.</summary>
    public bool TryStart()
    {
        _holdsManagerShare = _managerBudget?.TryReserve(_options.SharedCredit) ?? true;
        return _holdsManagerShare;
    }

    // ---- receive budget ----

    /// <summary>
    /// Reserves a new flow's window: the initial window, or what is left of the budget, but at least the minimum. Zero
    /// when not even the minimum fits (the manager's budget is spent, or flows that left the table still hold theirs):
    /// the flow cannot be carried now.
    /// </summary>
    public int ReserveWindow()
    {
        int window;
        lock (_budgetLock)
        {
            var room = _options.ReceiveBudget - _reserved - MinimumsKeptLocked(_windows + 1);
            if (room < _options.MinFlowWindow)
            {
                return 0;
            }

            window = (int)Math.Min(room, _options.InitialFlowWindow);
            if (_managerBudget is not null && !_managerBudget.TryReserve(window))
            {
                window = _options.MinFlowWindow;
                if (!_managerBudget.TryReserve(window))
                {
                    return 0;
                }
            }

            _reserved += window;
            _windows++;
        }

        _counters.Reserved(window);
        return window;
    }

    /// <summary>Grows a window by <paramref name="bytes"/>; false, reserving nothing, when that does not fit.</summary>
    public bool TryReserve(long bytes)
    {
        lock (_budgetLock)
        {
            if (_reserved + bytes + MinimumsKeptLocked(_windows) > _options.ReceiveBudget
                || _managerBudget?.TryReserve(bytes) == false)
            {
                return false;
            }

            _reserved += bytes;
        }

        _counters.Reserved(bytes);
        return true;
    }

    /// <summary>
    /// A window gave back <paramref name="bytes"/>, leaving it <paramref name="remaining"/>. A window is charged at least
    /// the minimum until it holds nothing (its flow's peer finished and everything was read, or the flow was disposed):
    /// that is what keeps room for a minimum window of every flow that may still open when one of them goes.
    /// </summary>
    public void Unreserve(long bytes, long remaining)
    {
        var returned = Charge(remaining + bytes) - Charge(remaining);
        lock (_budgetLock)
        {
            _reserved -= returned;
            if (remaining == 0)
            {
                _windows--;
            }
        }

        if (returned > 0)
        {
            _managerBudget?.Return(returned);
            _counters.Reserved(-returned);
        }
    }

    private long Charge(long reservation) => reservation == 0 ? 0 : Math.Max(reservation, _options.MinFlowWindow);

    /// <summary>The connection closed: the shared credit it granted is no longer held.</summary>
    public void ReleaseSharedCredit()
    {
        lock (_budgetLock)
        {
            _reserved -= _options.SharedCredit;
        }

        if (_holdsManagerShare)
        {
            _managerBudget?.Return(_options.SharedCredit);
        }

        _counters.Reserved(-_options.SharedCredit);
    }

    /// <summary>The minimum windows kept free for the flows that may still open while <paramref name="windows"/> hold a reservation.</summary>
    private long MinimumsKeptLocked(int windows) => (long)Math.Max(0, _options.MaxConcurrentFlows - windows) * _options.MinFlowWindow;

    // ---- the peer's draws on the shared credit this side grants (lock-free) ----

    /// <summary>The peer's bytes beyond its flows' credit, held on the shared credit this side grants.</summary>
    public long PeerDrawn => Interlocked.Read(ref _peerDrawn);

    public bool TryDrawShared(long bytes)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _peerDrawn);
            if (current + bytes > _options.SharedCredit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _peerDrawn, current + bytes, current) == current)
            {
                return true;
            }
        }
    }

    public void ReturnShared(long bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Add(ref _peerDrawn, -bytes);
        }
    }

    // ---- shared send credit (send lock) ----

    public long SharedSendCreditLocked => _sharedSendCredit;

    /// <summary>A flow added <paramref name="bytes"/> to its debt.</summary>
    public void SpendSharedLocked(long bytes) => _sharedSendCredit -= bytes;

    /// <summary>A flow is waiting for shared credit to come back: the next return must wake it.</summary>
    public void NoteSharedWaiterLocked() => _sharedWaiters = true;

    /// <summary>
    /// Gives back shared credit a flow's debt held (paid back, settled or written off). True when flows are waiting for
    /// shared credit: only then must the caller wake them.
    /// </summary>
    public bool ReturnSharedLocked(long bytes)
    {
        if (bytes <= 0)
        {
            return false;
        }

        _sharedSendCredit += bytes;
        var wake = _sharedWaiters;
        _sharedWaiters = false;
        return wake;
    }

    /// <summary>
    /// A flow left the table owing <paramref name="debt"/>: kept until the peer settles it with a release, or writes it
    /// off with a reset.
    /// </summary>
    public void KeepDebtLocked(ulong flowId, long debt)
    {
        if (debt > 0)
        {
            _leftDebts[flowId] = debt;
        }
    }

    /// <summary>Credit for a flow no longer in the table: pays back what it still owed, returned for the caller to give back.</summary>
    public long PayLeftDebtLocked(ulong flowId, long bytes)
    {
        if (!_leftDebts.TryGetValue(flowId, out var debt))
        {
            return 0;
        }

        var paid = Math.Min(debt, bytes);
        if (paid == debt)
        {
            _leftDebts.Remove(flowId);
        }
        else
        {
            _leftDebts[flowId] = debt - paid;
        }

        return paid;
    }

    /// <summary>The peer reset a flow that is no longer in the table: what it still owed is written off, returned.</summary>
    public long WriteOffLeftDebtLocked(ulong flowId) => _leftDebts.Remove(flowId, out var debt) ? debt : 0;

    // ---- credit owed to the peer (send lock) ----

    public bool HasReleasesLocked => _releases.Count > 0;

    /// <summary>Whether credit for <paramref name="flowId"/> waits for the next record.</summary>
    public bool IsReleaseQueuedLocked(ulong flowId) => _releases.ContainsKey(flowId);

    /// <summary>
    /// Counts <paramref name="bytes"/> the peer sent on flows whose acknowledgement waits for a record to ride with: the
    /// peer spent them from this side's shared credit and gets them back only with those acknowledgements. True when
    /// they add up to a quarter of the shared credit, so the writer should be woken to send them now; the count then
    /// starts again.
    /// </summary>
    public bool AddRidingAckBytesLocked(long bytes)
    {
        _ridingAckBytes += bytes;
        if (_ridingAckBytes < _options.SharedCredit / 4)
        {
            return false;
        }

        _ridingAckBytes = 0;
        return true;
    }

    /// <summary>Owes the peer <paramref name="bytes"/> more credit on a flow, added to what it is owed there already.</summary>
    public void QueueReleaseLocked(ulong flowId, long bytes)
    {
        ref var owed = ref CollectionsMarshal.GetValueRefOrAddDefault(_releases, flowId, out var exists);
        owed += bytes;
        if (!exists)
        {
            _counters.QueuedControl(ReleaseEntryCost);
        }
    }

    /// <summary>Writes the owed credit as one Release message of at most <paramref name="maxBytes"/>; the rest waits for the next record.</summary>
    public void WriteReleasesLocked(MemoryBufferWriter writer, int maxBytes)
    {
        if (_releases.Count == 0)
        {
            return;
        }

        var take = Math.Min(_releases.Count, (maxBytes - ReleaseOverhead) / MaxBytesPerCredit);
        var batch = new FlowCredit[take];
        var i = 0;
        foreach (var (flowId, bytes) in _releases)
        {
            if (i == take)
            {
                break;
            }

            batch[i++] = new FlowCredit(flowId, (ulong)bytes);
        }

        _counters.QueuedControl(-(long)take * ReleaseEntryCost);
        if (take == _releases.Count)
        {
            _releases.Clear();
            _ridingAckBytes = 0;
        }
        else
        {
            foreach (var credit in batch)
            {
                _releases.Remove(credit.FlowId);
            }
        }

        MessageCodec.Write(writer, new Release(batch));
    }

    /// <summary>The connection closed: nothing owed or kept matters any more.</summary>
    public void ClearLocked()
    {
        _counters.QueuedControl(-(long)_releases.Count * ReleaseEntryCost);
        _releases.Clear();
        _leftDebts.Clear();
    }
}
