using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
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
/// lock guards its receive half. The two are never held together and never across an await. The flow table, the
/// receive budget and the counters are lock-free.
/// </remarks>
public sealed partial class ManagedConnection : IManagedConnection, IFlowConnection, IRecordWriterHost, IAsyncDisposable
{
    internal const string DisposedReason = "The peer disposed the flow.";
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly IFramedConnection _framed;
    private readonly HandshakeResult _session;
    private readonly ConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, Flow> _flows = new();
    private readonly CreditLedger _ledger;
    private readonly SendQueue _queue;
    private readonly RecordWriter _writer;
    private readonly ConnectionHealth _health;
    private readonly InboundDispatcher _inbound;
    private readonly ReceivingFlows _receiving;
    private readonly DischargeRefresh _discharges;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Action> _closeCallbacks = [];

    // Guarded by the send lock.
    private ulong _nextLocalId;
    private bool _localLameDuck;
    private TaskCompletionSource? _lameDuckAcked;
    private bool _closeCallbacksRan;

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
        _ledger = new CreditLedger(Options, Counters, peerSharedCredit: (long)Math.Min(session.RemoteSharedCredit, int.MaxValue));
        _queue = new SendQueue(_ledger);
        var remoteMtu = (int)Math.Min(session.RemoteMtu, (uint)RecordLayout.MaxPayload);
        _writer = new RecordWriter(this, framed, session.SendCipher, _queue, _ledger, Counters, remoteMtu);
        _health = new ConnectionHealth(_queue, Options, Counters, _writer.Signal, OnChannelTimeout);
        _inbound = new InboundDispatcher(this, framed, session.ReceiveCipher, _queue, _ledger, _writer, _health, _receiving, Counters, session.Role);
        _discharges = new DischargeRefresh(this, settings, session);
        _nextLocalId = session.Role == HandshakeRole.Dialer ? 1UL : 2UL;
        _trust = new PeerTrust(session.PeerMayOpenFlows, session.PeerTrustedUntil, TimeProvider);
        _lastUsedTicks = TimeProvider.GetUtcNow().UtcTicks;
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
        HandshakeResult session;
        try
        {
            session = await Handshake.RunAsync(framed, role, settings, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Dispose, not abort: whatever this side sent to explain the failure still reaches the peer.
            await framed.DisposeAsync().ConfigureAwait(false);
            if (e is FlowException)
            {
                throw;
            }

            throw new FlowException(FlowErrorCode.Auth, "Handshake failed: " + e.Message, e);
        }

        var connection = new ManagedConnection(framed, session, settings);
        connection._inbound.Start();
        connection._writer.Start();
        connection._health.Start();
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

    public TimeSpan Rtt => _health.Rtt;

    /// <summary>The smallest RTT measured while no data moved (zero before the first such answer): what window tuning goes by.</summary>
    internal TimeSpan MinRtt => _health.MinRtt;

    /// <summary>
    /// The most a flow's receive window should be now: <see cref="ConnectionOptions.MessageTrafficWindow"/> while a flow
    /// of messages receives on the connection, otherwise no limit.
    /// </summary>
    internal int WindowLimit =>
        Options.MessageTrafficWindow is { } besideMessages && _receiving.AnyMessageFlow ? besideMessages : int.MaxValue;

    public DateTimeOffset LastUsed => new(Volatile.Read(ref _lastUsedTicks), TimeSpan.Zero);

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

    /// <summary>Opens a flow; a side channel's traffic does not count as use of the connection (idleness, eviction).</summary>
    internal IFlow OpenFlow(bool sideChannel)
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

            var id = _nextLocalId;
            _nextLocalId += 2;
            flow = new Flow(this, id, isLocal: true, _ledger.ReserveWindow(), sendCredit: 0) { IsSideChannel = sideChannel };
            if (sideChannel)
            {
                Interlocked.Increment(ref _sideChannelFlows);
            }

            _flows[id] = flow;
            Counters.FlowAdded(local: true);
            _queue.MakeReadyLocked(flow);
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
    /// Adds a flow the peer opened, or queues its refusal (lame duck, the flow limit, no acceptor); null when refused.
    /// An added flow's acknowledgement is held until it is in the accept backlog (<see cref="OfferToAcceptor"/>).
    /// </summary>
    internal Flow? TryAddRemoteFlow(OpenFlow open)
    {
        var distrusted = !AdmitsFlowsFromPeer();
        lock (_queue.Lock)
        {
            string? refusal = null;
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
                refusal = $"The connection already carries {_flows.Count} flows, its limit.";
            }
            else if (_settings.AcceptedFlows is null)
            {
                refusal = "This side does not accept flows.";
            }
            else if (!_queue.IsClosingLocked)
            {
                var flow = new Flow(this, open.FlowId, isLocal: false, _ledger.ReserveWindow(), sendCredit: (long)Math.Min(open.InitialCredit, int.MaxValue));
                flow.Send.HoldAcknowledgement();
                _flows[open.FlowId] = flow;
                Counters.FlowAdded(local: false);
                return flow;
            }

            if (refusal is not null)
            {
                _queue.EnqueueControlLocked(new CloseFlow(open.FlowId, refusal) { Code = distrusted ? FlowErrorCode.NotTrusted : FlowErrorCode.BadState });
                Counters.FlowRefused();
            }

            return null;
        }
    }

    /// <summary>
    /// Puts a flow the peer opened into the accept backlog and acknowledges it, or, when the backlog is full, refuses
    /// it. Never acknowledged, the opener reads the CloseFlow as a refusal and gets its shared credit back.
    /// </summary>
    internal void OfferToAcceptor(Flow flow)
    {
        if (_settings.AcceptedFlows!.TryWrite(flow))
        {
            lock (_queue.Lock)
            {
                // The acknowledgement: the flow's whole window, plus anything the application already released.
                _ledger.QueueReleaseLocked(flow.Id, flow.ReceiveWindow + flow.Send.ReleaseAcknowledgement());
            }

            _writer.Signal();
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
        if (_flows.TryRemove(new KeyValuePair<ulong, Flow>(flow.Id, flow)))
        {
            Counters.FlowRemoved();
            if (flow.IsSideChannel)
            {
                Interlocked.Decrement(ref _sideChannelFlows);
            }
        }

        flow.MarkClosed();
    }

    // ---------------------------------------------------------------- IFlowConnection: what flows ask of it

    TimeProvider IReceiveWindowHost.TimeProvider => TimeProvider;

    int IReceiveWindowHost.MaxFlowWindow => Options.MaxFlowWindow;

    int IReceiveWindowHost.WindowLimit => WindowLimit;

    TimeSpan IReceiveWindowHost.MinRtt => MinRtt;

    bool IReceiveWindowHost.TryReserve(long bytes) => _ledger.TryReserve(bytes);

    void IReceiveWindowHost.Unreserve(long bytes) => _ledger.Unreserve(bytes);

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

    void IFlowConnection.OnFlowDisposed(Flow flow)
    {
        var reset = false;
        lock (_queue.Lock)
        {
            if (_flows.ContainsKey(flow.Id) && !flow.RemoteClosed && !flow.Send.ResetSent && !_queue.IsClosingLocked)
            {
                _queue.EnqueueControlLocked(new CloseFlow(flow.Id, DisposedReason));
                reset = true;
            }

            flow.Send.Finish(null);
        }

        RemoveFlow(flow);
        if (reset)
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

    // ---------------------------------------------------------------- lame duck

    /// <summary>
    /// Tells the peer this side accepts no new flows here; completes when the peer acknowledged. Open flows go on.
    /// </summary>
    public async Task EnterLameDuckAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource acked;
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked)
            {
                throw ClosedError();
            }

            if (_lameDuckAcked is null)
            {
                _lameDuckAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _localLameDuck, true);
                _queue.EnqueueControlLocked(new EnterLameDuck());
            }

            acked = _lameDuckAcked;
        }

        _writer.Signal();
        await acked.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    internal void OnRemoteLameDuck() => Volatile.Write(ref _remoteLameDuck, true);

    internal void OnLameDuckAcknowledged() => Volatile.Read(ref _lameDuckAcked)?.TrySetResult();

    // ---------------------------------------------------------------- closing

    /// <summary>Closes the connection: the peer is told, every open flow is aborted. Completes when all loops ended.</summary>
    public Task CloseAsync(string reason = "closed locally")
    {
        BeginClose(new FlowException(FlowErrorCode.Aborted, "The connection was closed: " + reason), sendTearDown: true, localOrderly: true);
        return Closed;
    }

    public ValueTask DisposeAsync() => new(CloseAsync("disposed"));

    void IRecordWriterHost.OnDataSent() => Touch();

    void IRecordWriterHost.OnFlowFinished(Flow flow) => RemoveFlow(flow);

    void IRecordWriterHost.OnWriteFailed(Exception error) => Fail(error, "Writing to the connection failed");

    /// <summary>Closes the connection after a failure of one of its loops; <paramref name="tellPeer"/> sends it the reason.</summary>
    internal void Fail(Exception error, string what, bool tellPeer = false) =>
        BeginClose(error as FlowException ?? new FlowException(FlowErrorCode.Network, what + ": " + error.Message, error), sendTearDown: tellPeer);

    private void OnChannelTimeout(TimeSpan silence)
    {
        LogChannelTimeout(_logger, RemoteEndpoint, silence);
        BeginClose(new FlowException(FlowErrorCode.Network, $"The peer was silent for {silence}, past the channel timeout of {Options.ChannelTimeout}."), sendTearDown: true);
    }

    internal void BeginClose(FlowException reason, bool sendTearDown, bool localOrderly = false)
    {
        lock (_queue.Lock)
        {
            var tearDown = sendTearDown ? new TearDown(localOrderly ? FlowErrorCode.Aborted : reason.Code, reason.Message) : null;
            if (!_queue.TryBeginClosingLocked(tearDown))
            {
                return;
            }

            Volatile.Write(ref _closeReason, localOrderly ? null : reason);
        }

        if (!localOrderly)
        {
            LogClosing(_logger, RemoteEndpoint, reason.Code, reason.Message);
        }

        _writer.Signal();
        _ = FinishCloseAsync(reason);
    }

    private async Task FinishCloseAsync(FlowException reason)
    {
        _health.Stop();
        _trust.Dispose();
        var dischargeRefresh = _discharges.StopAsync();

        // Give the writer a moment to put the teardown on the wire; a peer that does not read cannot hold us.
        if (await _writer.Completion.CompletesWithinAsync(CloseGrace, TimeProvider).ConfigureAwait(false))
        {
            // Graceful: the peer still reads everything sent, the teardown included, then sees the end.
            await _framed.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _framed.Abort(reason);
            _writer.Signal();
        }

        await Task.WhenAll(_inbound.Completion, _writer.Completion, dischargeRefresh).ConfigureAwait(false);
        await _framed.DisposeAsync().ConfigureAwait(false);

        var flowError = new FlowException(FlowErrorCode.Aborted, "The connection closed: " + reason.Message, reason);
        foreach (var flow in _flows.Values)
        {
            lock (_queue.Lock)
            {
                flow.Send.Finish(flowError);
            }

            flow.FailReceive(flowError, keepBuffered: false);
            RemoveFlow(flow);
        }

        lock (_queue.Lock)
        {
            _queue.ClearLocked();
            _lameDuckAcked?.TrySetException(flowError);
        }

        _ledger.ReleaseSharedCredit();
        _session.SendCipher.Dispose();
        _session.ReceiveCipher.Dispose();
        Action[] callbacks;
        lock (_queue.Lock)
        {
            callbacks = [.. _closeCallbacks];
            _closeCallbacks.Clear();
            _closeCallbacksRan = true;
        }

        foreach (var callback in callbacks)
        {
            callback();
        }

        _closed.TrySetResult();
    }

    /// <summary>
    /// Runs <paramref name="callback"/> when the connection has closed, before <see cref="Closed"/> completes, so
    /// whoever awaits <see cref="Closed"/> already sees its effects (the manager's cache dropping the connection).
    /// </summary>
    internal void OnClosed(Action callback)
    {
        lock (_queue.Lock)
        {
            if (!_closeCallbacksRan)
            {
                _closeCallbacks.Add(callback);
                return;
            }
        }

        callback();
    }

    private FlowException ClosedError() =>
        new(FlowErrorCode.Aborted, "The connection is closed" + (CloseReason is { } r ? ": " + r.Message : "."), CloseReason);
}
