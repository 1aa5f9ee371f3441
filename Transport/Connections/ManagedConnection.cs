using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using FlowOrleans.Transport.Diagnostics;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;
using FlowOrleans.Transport.Threading;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// An authenticated, encrypted connection carrying many flows (docs/architecture.md, "Multiplexing"). This type is
/// the connection's public face, its flow table and its lifecycle; the work is done by its parts:
/// <see cref="InboundDispatcher"/> (the read loop), <see cref="RecordWriter"/> (the writer and its scheduling) over the
/// <see cref="SendQueue"/>, the <see cref="CreditLedger"/> (shared credit, receive budget, releases owed) and
/// <see cref="ConnectionHealth"/> (pings, RTT, channel timeout). Each flow keeps its receive half and its
/// <see cref="FlowSendState"/>, and talks to the connection through <see cref="IFlowConnection"/>.
/// </summary>
/// <remarks>
/// Locks, and their order: the send lock (<see cref="SendQueue.Lock"/>) guards every flow's send half, the outbound
/// queues, the ledger's send side, the ping state and this type's lame duck and closing state; each flow's receive
/// lock guards its receive half (flows share 32 of them, by ID, and no code holds two). The two are never held together and never across an await. The flow table, the
/// receive budget and the counters are lock-free.
/// </remarks>
public sealed partial class ManagedConnection : IManagedConnection, IFlowConnection, IRecordWriterHost, IAsyncDisposable
{
    internal const string DisposedReason = "The peer disposed the flow.";

    /// <summary>
    /// Flows the peer may open in a row while the table is full (each refused) before that is a protocol violation: a
    /// peer with other limits or in a race may do it now and then, one that keeps doing it floods this side.
    /// </summary>
    internal const int FlowLimitAllowance = 32;

    private readonly IFramedConnection _framed;
    private readonly HandshakeResult _session;
    private readonly ConnectionSettings _settings;
    private readonly ILogger _logger;

    // A peer can keep opening flows a spent budget refuses; the operator hears of it once a connection.
    private bool _budgetRefusalLogged;
    private readonly ConcurrentDictionary<ulong, Flow> _flows = new();
    private readonly CreditLedger _ledger;
    private readonly SendQueue _queue;
    private readonly RecordWriter _writer;
    private readonly ConnectionHealth _health;
    private readonly InboundDispatcher _inbound;
    private readonly ReceivingFlows _receiving;
    private readonly DischargeRefresh _discharges;
    private readonly Lock[] _receiveLocks = NewReceiveLocks();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Action> _closeCallbacks = [];

    // Guarded by the send lock.
    private ulong _nextLocalId;
    private bool _localLameDuck;
    private TaskCompletionSource? _lameDuckAcked;
    private bool _closeCallbacksRan;
    private int _opensPastLimit;

    private long _sideChannelFlows;
    private long _lastUsedTicks;
    private bool _remoteLameDuck;
    private FlowException? _closeReason;

    private ManagedConnection(IFramedConnection framed, HandshakeResult session, ConnectionSettings settings)
    {
        _framed = framed;
        _session = session;
        _settings = settings;
        Counters = new ConnectionCounters(settings.AggregateCounters);
        _logger = settings.Logger;
        Options = settings.Options;
        TimeProvider = Options.TimeProvider;
        _receiving = new ReceivingFlows(TimeProvider);
        _ledger = new CreditLedger(Options, Counters, peerSharedCredit: (long)Math.Min(session.RemoteSharedCredit, int.MaxValue), settings.ManagerBudget);
        _queue = new SendQueue(_ledger, Counters);
        var remoteMtu = (int)Math.Min(session.RemoteMtu, (uint)RecordLayout.MaxPayload);
        _writer = new RecordWriter(this, framed, session.SendCipher, _queue, _ledger, Counters, remoteMtu);
        _health = new ConnectionHealth(_queue, Options, Counters, _writer.Signal, OnChannelTimeout);
        _inbound = new InboundDispatcher(this, framed, session.ReceiveCipher, _queue, _ledger, _writer, _health, _receiving, Counters, session.Role);
        _discharges = new DischargeRefresh(this, settings, session);
        _nextLocalId = session.Role == HandshakeRole.Dialer ? 1UL : 2UL;
        _trust = new PeerTrust(session.PeerMayOpenFlows, session.PeerTrustedUntil, TimeProvider);
        Established = TimeProvider.GetUtcNow();
        _lastUsedTicks = Established.UtcTicks;
    }

    /// <summary>Runs the dialer's handshake on <paramref name="framed"/> and starts the connection.</summary>
    public static Task<ManagedConnection> ConnectAsync(IFramedConnection framed, ConnectionSettings settings, CancellationToken cancellationToken = default)
        => StartAsync(framed, HandshakeRole.Dialer, settings, cancellationToken);

    /// <summary>Runs the acceptor's handshake on <paramref name="framed"/> and starts the connection.</summary>
    public static Task<ManagedConnection> AcceptAsync(IFramedConnection framed, ConnectionSettings settings, CancellationToken cancellationToken = default)
        => StartAsync(framed, HandshakeRole.Acceptor, settings, cancellationToken);

    private static async Task<ManagedConnection> StartAsync(
        IFramedConnection framed, HandshakeRole role, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(framed);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Options.Validate();

        // Until the peer has authenticated it may send nothing larger than a handshake message, and afterwards nothing
        // larger than a record: frames above that are refused before they are buffered.
        var readLimit = framed as IFrameReadLimit;
        readLimit?.ReadLimit = Handshake.MaxFrame;
        HandshakeResult session;
        using (var activity = FlowActivities.StartHandshake(role == HandshakeRole.Dialer ? "dialer" : "acceptor", settings.LocalEndpoint, settings.RemoteEndpoint))
        {
            try
            {
                session = await Handshake.RunAsync(framed, role, settings, cancellationToken).ConfigureAwait(false);
                readLimit?.ReadLimit = RecordLayout.MaxFrame;
                FlowActivities.SetPeer(activity, session.RemoteEndpoint, session.RemoteBlessingNames);
            }
            catch (Exception e)
            {
                // Dispose, not abort: whatever this side sent to explain the failure still reaches the peer.
                await framed.DisposeAsync().ConfigureAwait(false);
                var error = e as FlowException ?? new FlowException(FlowErrorCode.Auth, "Handshake failed: " + e.Message, e);
                TransportTelemetry.SetError(activity, error);
                if (e is FlowException)
                {
                    throw;
                }

                throw error;
            }
        }

        // The connection's loops outlive whichever dial or accept span is current here: they start outside any trace.
        if (Activity.Current is not null)
        {
            Activity.Current = null;
        }

        var connection = new ManagedConnection(framed, session, settings);
        settings.BeforeStart?.Invoke(connection);
        var budgeted = connection._ledger.TryStart();
        connection._inbound.Start();
        connection._writer.Start();
        connection._health.Start();
        if (!budgeted)
        {
            var full = new FlowException(FlowErrorCode.BadState, "The manager's receive budget has no room for another connection.");
            connection.BeginClose(full, sendTearDown: true);
            await connection.Closed.ConfigureAwait(false);
            throw full;
        }

        connection._trust.Watch(connection.OnTrustExpired);
        connection._discharges.Start();
        return connection;
    }

    internal ConnectionOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    public Endpoint LocalEndpoint => _session.LocalEndpoint;

    public Endpoint RemoteEndpoint => _session.RemoteEndpoint;

    public ushort CommonVersion => _session.Version;

    /// <summary>Which side of the handshake this was.</summary>
    public HandshakeRole Role => _session.Role;

    /// <summary>The negotiated record cipher.</summary>
    public CipherSuite Cipher => _session.SendCipher.Suite;

    /// <summary>
    /// The most a flow's receive window should be now: <see cref="ConnectionOptions.MessageTrafficWindow"/> while a flow
    /// of messages receives on the connection, otherwise no limit.
    /// </summary>
    internal int WindowLimit =>
        Options.MessageTrafficWindow is { } besideMessages && _receiving.AnyMessageFlow ? besideMessages : int.MaxValue;

    public DateTimeOffset LastUsed => new(Volatile.Read(ref _lastUsedTicks), TimeSpan.Zero);

    public DateTimeOffset Established { get; }

    public Task Closed => _closed.Task;

    public FlowException? CloseReason => Volatile.Read(ref _closeReason);

    public ConnectionCounters Counters { get; }

    /// <summary>True once this side announced it accepts no new flows.</summary>
    public bool IsLocalLameDuck => Volatile.Read(ref _localLameDuck);

    /// <summary>True once the peer announced it accepts no new flows here; opening one throws.</summary>
    public bool IsRemoteLameDuck => Volatile.Read(ref _remoteLameDuck);

    /// <summary>True while the connection can carry new flows.</summary>
    public bool IsUsable => !_queue.IsClosing && !IsRemoteLameDuck && !_trust.HasExpired;

    /// <summary>Flows open on the connection, not counting side channels: what makes a connection busy rather than idle.</summary>
    public long ActiveFlows => Counters.OpenFlows - Volatile.Read(ref _sideChannelFlows);

    // ---------------------------------------------------------------- the flow table

    /// <summary>
    /// Opens a flow to the peer. The open goes out at once (data written right away rides in the same record), so
    /// the peer can accept it before either side writes.
    /// </summary>
    public IFlow OpenFlow() => OpenFlow(sideChannel: false);

    /// <summary>Opens a flow; a side channel's traffic is no use of the connection; a shorter channel timeout is the connection's while it is open.</summary>
    internal IFlow OpenFlow(bool sideChannel, TimeSpan channelTimeout = default)
    {
        ThrowIfTrustExpired();
        Flow flow;
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked)
            {
                throw ClosedError();
            }

            if (_remoteLameDuck)
            {
                throw new FlowException(FlowErrorCode.BadState, "The peer is in lame duck mode and accepts no new flows on this connection.");
            }

            if (_flows.Count >= Options.MaxConcurrentFlows)
            {
                throw new FlowException(FlowErrorCode.BadState, $"The connection already carries {_flows.Count} flows, its limit.");
            }

            var window = _ledger.ReserveWindow();
            if (window == 0)
            {
                throw new FlowException(FlowErrorCode.BadState, "The receive budget has no room for another flow's window.");
            }

            var id = _nextLocalId;
            _nextLocalId += 2;
            flow = new Flow(this, id, isLocal: true, window, sendCredit: 0) { IsSideChannel = sideChannel, ChannelTimeout = channelTimeout };
            if (sideChannel)
            {
                Interlocked.Increment(ref _sideChannelFlows);
            }

            _flows[id] = flow;
            Counters.FlowAdded(local: true);
            _queue.MakeReadyLocked(flow);
            _health.AddFlowTimeout(channelTimeout);
        }

        _writer.Signal();
        return flow;
    }

    internal bool TryGetFlow(ulong flowId, [MaybeNullWhen(false)] out Flow flow) => _flows.TryGetValue(flowId, out flow);

    /// <summary>Whether this side has opened the flow <paramref name="flowId"/> (it may have closed since).</summary>
    internal bool WasOpenedLocally(ulong flowId)
    {
        lock (_queue.Lock)
        {
            return flowId < _nextLocalId;
        }
    }

    /// <summary>
    /// Adds a flow the peer opened, or queues its refusal (lame duck, the flow limit, no acceptor, no budget); null when
    /// refused. An added flow's acknowledgement is held until it is in the accept backlog (<see cref="OfferToAcceptor"/>).
    /// Throws when the peer keeps opening flows past the limit (<see cref="FlowLimitAllowance"/>).
    /// </summary>
    internal Flow? TryAddRemoteFlow(OpenFlow open)
    {
        var distrusted = !AdmitsFlowsFromPeer();
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked)
            {
                return null;
            }

            string refusal;
            if (distrusted)
            {
                refusal = PeerTrust.FlowsRefused;
            }
            else if (_localLameDuck)
            {
                refusal = "This side is in lame duck mode and accepts no new flows.";
            }
            else if (_flows.Count >= Options.MaxConcurrentFlows)
            {
                if (++_opensPastLimit > FlowLimitAllowance)
                {
                    throw new FlowException(FlowErrorCode.BadArg,
                        $"The peer opened {_opensPastLimit} flows in a row past the limit of {Options.MaxConcurrentFlows} flows.");
                }

                refusal = $"The connection already carries {_flows.Count} flows, its limit.";
            }
            else if (_settings.AcceptedFlows is null)
            {
                refusal = "This side does not accept flows.";
            }
            else if (_ledger.ReserveWindow() is var window and > 0)
            {
                var flow = new Flow(this, open.FlowId, isLocal: false, window, sendCredit: (long)Math.Min(open.InitialCredit, int.MaxValue));
                flow.Send.HoldAcknowledgement(window);
                _flows[open.FlowId] = flow;
                Counters.FlowAdded(local: false);
                return flow;
            }
            else
            {
                refusal = "This side has no receive budget left for another flow.";
                if (!_budgetRefusalLogged)
                {
                    _budgetRefusalLogged = true;
                    LogBudgetRefusal(_logger, RemoteEndpoint, _settings.Options.ReceiveBudget);
                }
            }

            _queue.EnqueueControlLocked(new CloseFlow(open.FlowId, refusal) { Code = distrusted ? FlowErrorCode.NotTrusted : FlowErrorCode.BadState });
            Counters.FlowRefused();
            return null;
        }
    }

    /// <summary>
    /// Puts a flow the peer opened into the accept backlog and acknowledges it, or, when the backlog is full, refuses
    /// it. Never acknowledged, the opener reads the CloseFlow as a refusal and gets its shared credit back.
    /// </summary>
    /// <remarks>
    /// An open that carried data is most likely a request: its acknowledgement may ride with the first record this side
    /// sends (the reply), which saves a record and a wake-up of the writer per flow. The writer is woken for it all the
    /// same right after the application took the flow and ran up to its first wait
    /// (<see cref="Flow.FlushRidingAcknowledgement"/>), when the flow's reader waits or reaches the end, and when this
    /// side's flows awaiting such acknowledgements received a quarter of the shared credit
    /// (<see cref="OnRidingAckData"/>); and at once for an open without data (whose sender may be waiting for credit)
    /// or when whoever reads the backlog does not flush (<see cref="ConnectionSettings.AcknowledgementsRideWithReplies"/>).
    /// </remarks>
    internal void OfferToAcceptor(Flow flow, int openPayload)
    {
        // The application may take the flow, read and wait before the lock below: the hint sends its reader's flush to
        // the connection, which finds the acknowledgement still held and asks for it to go at once.
        var ride = _settings.AcknowledgementsRideWithReplies && openPayload > 0;
        flow.Send.SetAcknowledgementRiding(ride);
        if (_settings.AcceptedFlows!.TryWrite(flow))
        {
            bool wake;
            lock (_queue.Lock)
            {
                // The acknowledgement: the window the flow was opened with (not its size now: reads before this lock may
                // have shrunk it, and the peer was granted the whole of it), plus anything the application released.
                _ledger.QueueReleaseLocked(flow.Id, flow.Send.ReleaseAcknowledgement(out var flushRequested));
                wake = !ride || flushRequested || _ledger.AddRidingAckBytesLocked(openPayload);
                flow.Send.SetAcknowledgementRiding(!wake);
            }

            if (wake)
            {
                _writer.Signal();
            }

            return;
        }

        Counters.FlowRefused();
        AbortFlow(flow, new FlowException(FlowErrorCode.BadState, "The accept backlog is full."));
    }

    /// <summary>Queues every flow that has something to send: the shared credit some were waiting for came back.</summary>
    internal void MakeAllReadyLocked()
    {
        foreach (var flow in _flows.Values)
        {
            _queue.MakeReadyLocked(flow);
        }
    }

    /// <summary>Drops the flow from the table once both directions ended.</summary>
    internal void RemoveIfDone(Flow flow)
    {
        bool done;
        lock (_queue.Lock)
        {
            done = flow.Send.CloseSent && flow.RemoteClosed;
        }

        if (done)
        {
            RemoveFlow(flow);
        }
    }

    internal void RemoveFlow(Flow flow)
    {
        lock (_queue.Lock)
        {
            RemoveFlowLocked(flow);
        }
    }

    /// <summary>
    /// Drops the flow from the table, under the send lock so that credit for it finds either the flow or the debt it
    /// left (kept until the peer settles it).
    /// </summary>
    private void RemoveFlowLocked(Flow flow)
    {
        if (_flows.TryRemove(new KeyValuePair<ulong, Flow>(flow.Id, flow)))
        {
            Counters.FlowRemoved();
            _opensPastLimit = 0;
            _ledger.KeepDebtLocked(flow.Id, flow.Send.TakeDebt());
            _health.RemoveFlowTimeout(flow.ChannelTimeout);
            if (flow.IsSideChannel)
            {
                Interlocked.Decrement(ref _sideChannelFlows);
            }
        }

        flow.MarkClosed();
    }

    // ---------------------------------------------------------------- IFlowConnection: what flows ask of it

    // Flows' receive locks, striped by flow ID: consecutive flows of one side get different locks, so flows share one
    // only 64 IDs (32 opens) apart, and a short hold there rarely meets another.
    private const int ReceiveLockStripes = 32;

    private static Lock[] NewReceiveLocks()
    {
        var locks = new Lock[ReceiveLockStripes];
        for (var i = 0; i < locks.Length; i++)
        {
            locks[i] = new Lock();
        }

        return locks;
    }

    Lock IFlowConnection.ReceiveLockFor(ulong flowId) => _receiveLocks[(int)((flowId >> 1) % ReceiveLockStripes)];

    TimeProvider IReceiveWindowHost.TimeProvider => TimeProvider;

    int IReceiveWindowHost.MaxFlowWindow => Options.MaxFlowWindow;

    int IReceiveWindowHost.WindowLimit => WindowLimit;

    TimeSpan IReceiveWindowHost.MinRtt => MinRtt;

    bool IReceiveWindowHost.TryReserve(long bytes) => _ledger.TryReserve(bytes);

    void IReceiveWindowHost.Unreserve(long bytes, long remaining) => _ledger.Unreserve(bytes, remaining);

    bool IReceiveWindowHost.TryDrawShared(long bytes) => _ledger.TryDrawShared(bytes);

    void IReceiveWindowHost.ReturnShared(long bytes) => _ledger.ReturnShared(bytes);

    internal void Touch() => Volatile.Write(ref _lastUsedTicks, TimeProvider.GetUtcNow().UtcTicks);

    void IFlowConnection.Touch() => Touch();

    void IFlowConnection.RefreshRttIfStale() => _health.RefreshIfStale();

    bool IFlowConnection.BeginWrite(Flow flow, ReadOnlyMemory<byte> data, bool close) => _queue.BeginWrite(flow, data, close);

    ValueTask IFlowConnection.KickWriterAsync() => _writer.KickAsync();

    void IFlowConnection.EndWrite(Flow flow, CancellationToken cancellationToken) => _queue.EndWrite(flow, cancellationToken);

    void IFlowConnection.CancelWrite(Flow flow) => _queue.CancelWrite(flow);

    void IFlowConnection.DisableFragmentation(Flow flow) => _queue.DisableFragmentation(flow);

    void IFlowConnection.QueueRelease(Flow flow, long bytes, bool wakeWriter)
    {
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked || flow.Send.IsFinished && flow.Send.CloseSent && !_flows.ContainsKey(flow.Id))
            {
                return;
            }

            if (flow.Send.TryHoldCredit(bytes))
            {
                return;
            }

            _ledger.QueueReleaseLocked(flow.Id, bytes);
        }

        if (wakeWriter)
        {
            _writer.Signal();
        }
    }

    bool IFlowConnection.PrepareDispose(Flow flow) => _queue.PrepareDispose(flow);

    void IFlowConnection.SettleDebt(Flow flow, long bytes)
    {
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked)
            {
                return;
            }

            _ledger.QueueReleaseLocked(flow.Id, bytes);
        }

        _writer.Signal();
    }

    void IFlowConnection.OnFlowDisposed(Flow flow, bool peerFinished, long debt)
    {
        var wake = false;
        lock (_queue.Lock)
        {
            if (!_queue.IsClosingLocked)
            {
                // A peer still sending is told to stop; so is one that finished when this side's Close never went (the
                // flow was disposed during a write), or it would wait for the end of a stream that is not coming.
                if ((!peerFinished || !flow.Send.CloseSent) && _flows.ContainsKey(flow.Id) && !flow.Send.ResetSent)
                {
                    _queue.EnqueueControlLocked(new CloseFlow(flow.Id, DisposedReason));
                    wake = true;
                }
                else if (peerFinished && debt > 0)
                {
                    _ledger.QueueReleaseLocked(flow.Id, debt);
                    wake = true;
                }
            }

            flow.Send.Finish(null);
            RemoveFlowLocked(flow);
        }

        if (wake)
        {
            _writer.Signal();
        }
    }

    void IFlowConnection.AbortFlow(Flow flow, FlowException error) => AbortFlow(flow, error);

    /// <summary>Aborts a flow from this side (deadline, refusal): both halves fail and the peer is told.</summary>
    internal void AbortFlow(Flow flow, FlowException error)
    {
        var reset = false;
        lock (_queue.Lock)
        {
            if (_flows.ContainsKey(flow.Id) && !_queue.IsClosingLocked)
            {
                _queue.EnqueueControlLocked(new CloseFlow(flow.Id, error.Message) { Code = error.Code });
                reset = true;
            }

            flow.Send.Finish(error);
        }

        flow.FailReceive(error, keepBuffered: false);
        RemoveFlow(flow);
        if (reset)
        {
            _writer.Signal();
        }
    }
}
