using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// An authenticated, encrypted connection carrying many flows (docs/architecture.md, "Multiplexing").
/// One read loop decrypts records and hands payload slices to flows without copying; one writer loop fills records
/// with control messages first, then data from flows that have both bytes and credit, round-robin, an MTU per turn,
/// and seals each record straight into the outgoing frame. Send-side state of every flow is guarded by one lock
/// (<see cref="_sendLock"/>); each flow guards its receive side itself. A health timer measures RTT and closes a
/// silent connection.
/// </summary>
public sealed partial class ManagedConnection : IManagedConnection, IAsyncDisposable
{
    private const int FlushThreshold = 256 * 1024;

    // A record that ends a write shorter than this (a message, a request) is flushed at once instead of after
    // FlushThreshold of bulk records: otherwise a ping that shares a record with bulk data waits for a quarter MiB of
    // sealing behind it before the socket sees it.
    private const int UrgentChunk = 16 * 1024;
    private const int WriterFree = 0;
    private const int WriterOwned = 1;
    private const int WriterStopped = 2;
    private const int MaxControlBytesPerRecord = RecordLayout.MaxPlaintext - RecordLayout.MaxPayload - 64;
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RttRefreshInterval = TimeSpan.FromSeconds(1);
    private const int StartupRttSamples = 3;
    private const string DisposedReason = "The peer disposed the flow.";

    private readonly IFramedConnection _framed;
    private readonly HandshakeResult _session;
    private readonly ConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly Lock _sendLock = new();
    private readonly ConcurrentDictionary<ulong, Flow> _flows = new();
    private readonly Queue<Flow> _ready = new();
    private readonly Queue<Message> _control = new();
    private readonly List<FlowCredit> _releases = [];
    private readonly AsyncSignal _writerSignal = new();

    // Who builds records: nobody (free), the writer loop or an application write draining inline (owned), or nobody
    // ever again (stopped: the teardown went out or writing failed). Exactly one owner touches the record writer and
    // the framed connection's output.
    private int _writerState;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MemoryBufferWriter _recordWriter = new();
    private readonly ReceivingFlows _receiving;
    private readonly int _remoteMtu;
    private readonly long _allowanceForRemoteFlows;
    private ulong _nextLocalId;
    private ulong _highestRemoteId;
    private long _sideChannelFlows;
    private long _sharedSendCredit;
    private long _reserved;
    private Flow? _deferred;
    private bool _closing;
    private bool _teardownQueued;
    private FlowException? _closeReason;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private ITimer? _healthTimer;
    private long _lastReceived;
    private long _lastUsedTicks;
    private readonly RttEstimator _rtt = new();
    private long _rttSampledAt;
    private int _rttSamples;
    private ulong _pingNonce;
    private long _pingSentAt;
    private long _pingDataMark;
    private bool _localLameDuck;
    private bool _remoteLameDuck;
    private TaskCompletionSource? _lameDuckAcked;
    private readonly List<Action> _closeCallbacks = [];
    private bool _closeCallbacksRan;

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
        _remoteMtu = (int)Math.Min(session.RemoteMtu, (uint)RecordLayout.MaxPayload);
        _sharedSendCredit = (long)Math.Min(session.RemoteSharedCredit, int.MaxValue);
        _allowanceForRemoteFlows = Options.SharedCredit;
        _nextLocalId = session.Role == HandshakeRole.Dialer ? 1UL : 2UL;
        _reserved = Options.SharedCredit;
        Counters.Reserved(Options.SharedCredit);
        _lastReceived = TimeProvider.GetTimestamp();
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
            session = await Handshake.RunAsync(framed, role, new HandshakeParameters
            {
                Principal = settings.Principal,
                Authorizer = settings.Authorizer,
                LocalEndpoint = settings.LocalEndpoint,
                RemoteEndpoint = settings.RemoteEndpoint,
                Options = settings.Options,
                MaxRecords = settings.MaxRecords,
            }, cancellationToken).ConfigureAwait(false);
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
        connection.Start();
        return connection;
    }

    private void Start()
    {
        Counters.LoopStarted();
        Counters.LoopStarted();
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
        var interval = Options.EffectiveHealthCheckInterval;
        var period = interval / 2 > TimeSpan.Zero ? interval / 2 : interval;
        Counters.LoopStarted(); // the health timer counts as a loop until it is disposed
        _healthTimer = TimeProvider.CreateTimer(static s => ((ManagedConnection)s!).OnHealthTimer(), this, period, period);
        SendHealthCheck(); // an early RTT sample; window tuning uses it
    }

    internal ConnectionOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    public Endpoint LocalEndpoint => _session.LocalEndpoint;

    public Endpoint RemoteEndpoint => _session.RemoteEndpoint;

    public Blessings LocalBlessings => _session.LocalBlessings;

    public Blessings RemoteBlessings => _session.RemoteBlessings;

    public Discharges LocalDischarges => _session.LocalDischarges;

    public Discharges RemoteDischarges => _session.RemoteDischarges;

    public IReadOnlyList<string> RemoteBlessingNames => _session.RemoteBlessingNames;

    public ushort CommonVersion => _session.Version;

    /// <summary>Which side of the handshake this was.</summary>
    public HandshakeRole Role => _session.Role;

    /// <summary>The negotiated record cipher.</summary>
    public CipherSuite Cipher => _session.SendCipher.Suite;

    public TimeSpan Rtt => _rtt.Latest;

    /// <summary>The smallest RTT measured while no data moved (zero before the first such answer): what window tuning goes by.</summary>
    internal TimeSpan MinRtt => _rtt.Min;

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
    public bool IsUsable => !Volatile.Read(ref _closing) && !IsRemoteLameDuck;

    // ---------------------------------------------------------------- flows

    /// <summary>
    /// Opens a flow to the peer. The open goes out at once (data written right away rides in the same record), so
    /// the peer can accept it before either side writes.
    /// </summary>
    public IFlow OpenFlow() => OpenFlow(sideChannel: false);

    /// <summary>Flows open on the connection, not counting side channels: what makes a connection busy rather than idle.</summary>
    public long ActiveFlows => Counters.OpenFlows - Volatile.Read(ref _sideChannelFlows);

    /// <summary>Opens a flow; a side channel's traffic does not count as use of the connection (idleness, eviction).</summary>
    internal IFlow OpenFlow(bool sideChannel)
    {
        Flow flow;
        lock (_sendLock)
        {
            if (_closing)
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
            flow = new Flow(this, id, isLocal: true, ReserveWindow(), sendCredit: 0) { IsSideChannel = sideChannel };
            if (sideChannel)
            {
                Interlocked.Increment(ref _sideChannelFlows);
            }

            _flows[id] = flow;
            Counters.FlowAdded(local: true);
            MakeReadyLocked(flow);
        }

        _writerSignal.Set();
        return flow;
    }

    private int ReserveWindow()
    {
        var available = Options.ReceiveBudget - Interlocked.Read(ref _reserved);
        var window = (int)Math.Clamp(available, Options.MinFlowWindow, Options.InitialFlowWindow);
        Interlocked.Add(ref _reserved, window);
        Counters.Reserved(window);
        return window;
    }

    internal bool TryReserve(long bytes)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _reserved);
            if (current + bytes > Options.ReceiveBudget)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _reserved, current + bytes, current) == current)
            {
                Counters.Reserved(bytes);
                return true;
            }
        }
    }

    internal void Unreserve(long bytes)
    {
        Interlocked.Add(ref _reserved, -bytes);
        Counters.Reserved(-bytes);
    }

    internal void Touch() => Volatile.Write(ref _lastUsedTicks, TimeProvider.GetUtcNow().UtcTicks);

    /// <summary>
    /// Registers a write (or a close) of <paramref name="flow"/>; false when there is nothing to wait for. The caller
    /// then calls <see cref="KickWriterAsync"/>.
    /// </summary>
    internal bool BeginWrite(Flow flow, ReadOnlyMemory<byte> data, bool close)
    {
        lock (_sendLock)
        {
            if (flow.SendError is { } error)
            {
                throw new FlowException(error.Code, error.Message, error);
            }

            if (flow.CloseRequested)
            {
                if (close && data.IsEmpty)
                {
                    return false; // closing twice is harmless
                }

                throw new FlowException(FlowErrorCode.BadState, "The flow's write side is closed.");
            }

            if (flow.WritePending)
            {
                throw new FlowException(FlowErrorCode.BadState, "Another write is already pending on this flow.");
            }

            if (flow.Unfragmented && data.Length > RecordLayout.MaxPayload)
            {
                throw new FlowException(FlowErrorCode.BadArg,
                    $"A message of {data.Length} bytes exceeds the {RecordLayout.MaxPayload}-byte limit of unfragmented flows.");
            }

            flow.PendingData = data;
            flow.CloseRequested = close;
            flow.WritePending = true;
            flow.WriteCancelled = false;
            MakeReadyLocked(flow);
        }

        return true; // the caller kicks the writer (KickWriterAsync), inline when it is idle
    }

    /// <summary>Ends a write after its signal: throws what went wrong, if anything.</summary>
    internal void EndWrite(Flow flow, CancellationToken cancellationToken)
    {
        lock (_sendLock)
        {
            if (flow.WriteCancelled)
            {
                flow.WriteCancelled = false;
                throw new OperationCanceledException(cancellationToken);
            }

            if (flow.WritePending)
            {
                throw new InvalidOperationException("A write ended before the connection finished it.");
            }

            if (flow.SendError is { } error && (flow.PendingData.Length > 0 || !flow.CloseSent))
            {
                flow.PendingData = default;
                throw new FlowException(error.Code, error.Message, error);
            }
        }
    }

    internal void CancelWrite(Flow flow)
    {
        lock (_sendLock)
        {
            if (!flow.WritePending)
            {
                return;
            }

            // Bytes already in records stay sent; the rest of this write is dropped.
            flow.WritePending = false;
            flow.WriteCancelled = true;
            flow.PendingData = default;
            if (!flow.CloseSent)
            {
                flow.CloseRequested = false;
            }
        }

        flow.SignalWriteDone();
    }

    internal void DisableFragmentation(Flow flow)
    {
        lock (_sendLock)
        {
            flow.Unfragmented = true;
        }
    }

    /// <summary>Queues credit for the peer; the writer is woken for it only when <paramref name="wakeWriter"/>.</summary>
    internal void QueueRelease(Flow flow, long bytes, bool wakeWriter = true)
    {
        lock (_sendLock)
        {
            if (_closing || flow.SendDone && flow.CloseSent && !_flows.ContainsKey(flow.Id))
            {
                return;
            }

            if (flow.AckHeld)
            {
                flow.HeldCredit += bytes;
                return;
            }

            _releases.Add(new FlowCredit(flow.Id, (ulong)bytes));
        }

        if (wakeWriter)
        {
            _writerSignal.Set();
        }
    }

    /// <summary>
    /// Disposal is starting: when the writer sends this flow's Close flag it appends the CloseFlow that
    /// <see cref="OnFlowDisposed"/> would otherwise send in a record of its own (a second seal, flush and wake-up).
    /// </summary>
    /// <returns>False when the send half already failed, so closing it would only throw.</returns>
    internal bool PrepareDispose(Flow flow)
    {
        lock (_sendLock)
        {
            flow.ResetOnClose = true;
            return flow.SendError is null;
        }
    }

    /// <summary>The application is done with the flow: stop the peer sending and forget the flow.</summary>
    internal void OnFlowDisposed(Flow flow)
    {
        var reset = false;
        lock (_sendLock)
        {
            if (_flows.ContainsKey(flow.Id) && !flow.RemoteClosed && !flow.ResetSent && !_closing)
            {
                _control.Enqueue(new CloseFlow(flow.Id, DisposedReason));
                reset = true;
            }

            FinishSendLocked(flow, null);
        }

        RemoveFlow(flow);
        if (reset)
        {
            _writerSignal.Set();
        }
    }

    /// <summary>Aborts a flow from this side (deadline): both halves fail and the peer is told.</summary>
    internal void AbortFlow(Flow flow, FlowException error)
    {
        var reset = false;
        lock (_sendLock)
        {
            if (_flows.ContainsKey(flow.Id) && !_closing)
            {
                _control.Enqueue(new CloseFlow(flow.Id, error.Message));
                reset = true;
            }

            FinishSendLocked(flow, error);
        }

        flow.FailReceive(error, keepBuffered: false);
        RemoveFlow(flow);
        if (reset)
        {
            _writerSignal.Set();
        }
    }

    /// <summary>Ends the send half: a pending write fails with <paramref name="error"/> (or simply ends when null).</summary>
    private static void FinishSendLocked(Flow flow, FlowException? error)
    {
        flow.SendDone = true;
        flow.SendError ??= error ?? new FlowException(FlowErrorCode.Aborted, "The flow is closed.");
        flow.OpenPending = false;
        if (flow.WritePending)
        {
            flow.WritePending = false;
            flow.SignalWriteDone();
        }
    }

    private void RemoveFlow(Flow flow)
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

    /// <summary>Drops the flow from the table once both directions ended.</summary>
    private void MaybeFinish(Flow flow)
    {
        bool done;
        lock (_sendLock)
        {
            done = flow.CloseSent && flow.RemoteClosed;
        }

        if (done)
        {
            RemoveFlow(flow);
        }
    }

    private long SendableLocked(Flow flow) => flow.Acked ? flow.SendCredit : _sharedSendCredit;

    private bool IsReadyLocked(Flow flow)
    {
        if (flow.SendDone)
        {
            return false;
        }

        if (flow.OpenPending)
        {
            return true;
        }

        if (flow.PendingData.Length > 0)
        {
            return SendableLocked(flow) > 0;
        }

        return flow.CloseRequested && !flow.CloseSent;
    }

    private void MakeReadyLocked(Flow flow)
    {
        if (!flow.InReadyQueue && IsReadyLocked(flow))
        {
            flow.InReadyQueue = true;
            _ready.Enqueue(flow);
        }
    }

    // ---------------------------------------------------------------- writer loop

    private async Task WriteLoopAsync()
    {
        var scratch = ArrayPool<byte>.Shared.Rent(RecordLayout.MaxPlaintext);
        try
        {
            while (true)
            {
                await _writerSignal.WaitAsync().ConfigureAwait(false);
                var state = Interlocked.CompareExchange(ref _writerState, WriterOwned, WriterFree);
                if (state == WriterStopped)
                {
                    return;
                }

                if (state == WriterOwned)
                {
                    continue; // an application write is draining inline; it signals again if work is left
                }

                if (await DrainOwnedAsync(scratch, inline: false).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            Counters.LoopStopped();
        }
    }

    /// <summary>
    /// Sends what is queued on the caller's thread when no one else is writing: a write to an idle connection then
    /// goes out without waking the writer loop, which saves a thread hop per message (most of a round trip's cost on
    /// loopback). When the writer is busy the loop is signalled instead, as before.
    /// </summary>
    internal ValueTask KickWriterAsync()
    {
        // Only onto an output that is not backed up: with under FlushThreshold unsent, and at most FlushThreshold more
        // built inline, the flush stays below the transport's pause threshold and never waits for the peer, so an
        // application write cannot get stuck (uncancellable) in a flush. A backed-up output is the loop's to wait on.
        if (_framed.PendingWriteBytes >= FlushThreshold
            || Interlocked.CompareExchange(ref _writerState, WriterOwned, WriterFree) != WriterFree)
        {
            _writerSignal.Set();
            return ValueTask.CompletedTask;
        }

        return DrainInlineAsync();
    }

    private async ValueTask DrainInlineAsync()
    {
        var scratch = ArrayPool<byte>.Shared.Rent(RecordLayout.MaxPlaintext);
        try
        {
            await DrainOwnedAsync(scratch, inline: true).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Builds, seals and flushes records until nothing is ready, holding the writer role (<see cref="_writerState"/>
    /// is <see cref="WriterOwned"/> by the caller). Hands the role back, or retires it when the connection's last
    /// record went out or writing failed: then true, and the writer loop ends.
    /// </summary>
    private async ValueTask<bool> DrainOwnedAsync(byte[] scratch, bool inline)
    {
        bool stop;
        try
        {
            stop = await DrainAsync(scratch, inline).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            BeginClose(AsNetworkError(e, "Writing to the connection failed"), sendTearDown: false);
            stop = true;
        }

        if (stop)
        {
            Volatile.Write(ref _writerState, WriterStopped);
            _writerSignal.Set(); // the loop may be waiting: let it see the end
            return true;
        }

        // Hand the role back, then look again: work queued while we held it signalled a loop that could not take it.
        Interlocked.Exchange(ref _writerState, WriterFree);
        if (HasWriterWork())
        {
            _writerSignal.Set();
        }

        return false;
    }

    /// <summary>
    /// Builds and sends records until nothing is ready (inline: or FlushThreshold bytes were built); true to stop for
    /// good. Bulk records are flushed in batches; a record carrying a control message or the end of a short write
    /// is flushed right away.
    /// </summary>
    private async ValueTask<bool> DrainAsync(byte[] scratch, bool inline)
    {
        var built = 0;
        while (true)
        {
            var length = BuildRecord(scratch, out var more, out var stop, out var urgent);
            if (length > 0)
            {
                var frame = _framed.GetFrameBuffer(length + RecordLayout.TagSize);
                _session.SendCipher.Seal(scratch.AsSpan(0, length), frame.Span);
                _framed.CommitFrame();
                Counters.RecordSent();
            }

            built += length;
            if (stop || !more || urgent || (inline && built >= FlushThreshold))
            {
                await _framed.FlushAsync().ConfigureAwait(false);
                return stop || (Volatile.Read(ref _closing) && !HasQueuedTearDown());
            }

            if (_framed.PendingWriteBytes >= FlushThreshold)
            {
                await _framed.FlushAsync().ConfigureAwait(false);
            }
        }
    }

    private bool HasWriterWork()
    {
        lock (_sendLock)
        {
            return _closing || _ready.Count > 0 || _control.Count > 0 || _releases.Count > 0 || _deferred is not null;
        }
    }

    private bool HasQueuedTearDown()
    {
        lock (_sendLock)
        {
            return _teardownQueued;
        }
    }

    /// <summary>Fills one record's plaintext: credit releases, control messages, then flow data round-robin.</summary>
    private int BuildRecord(byte[] scratch, out bool more, out bool stop, out bool urgent)
    {
        stop = false;
        var writer = _recordWriter;
        writer.Reset(scratch.AsMemory(0, RecordLayout.MaxPlaintext));
        lock (_sendLock)
        {
            // Credit is not urgent here: credit that is needed woke the writer, and then nothing else is ready.
            urgent = _control.Count > 0;
            WriteReleasesLocked(writer);
            while (_control.TryPeek(out var message) && writer.Written + MessageCodec.GetEncodedLength(message) <= MaxControlBytesPerRecord)
            {
                _control.Dequeue();
                MessageCodec.Write(writer, message);
                if (message is TearDown)
                {
                    _teardownQueued = false;
                    stop = true;
                    more = false;
                    return writer.Written;
                }
            }

            if (_deferred is { } deferred)
            {
                _deferred = null;
                urgent |= WriteChunkLocked(deferred, writer);
                MakeReadyLocked(deferred);
            }

            while (_deferred is null && _ready.Count > 0 && writer.Remaining >= RecordLayout.MinUsefulRoom + MessageCodec.MaxDataHeaderSize)
            {
                var flow = _ready.Dequeue();
                flow.InReadyQueue = false;
                urgent |= WriteChunkLocked(flow, writer);
                MakeReadyLocked(flow);
            }

            more = _ready.Count > 0 || _control.Count > 0 || _releases.Count > 0 || _deferred is not null;
            return writer.Written;
        }
    }

    private void WriteReleasesLocked(MemoryBufferWriter writer)
    {
        if (_releases.Count == 0)
        {
            return;
        }

        // About 22 bytes a credit at most; a record's control share holds hundreds, the rest waits for the next record.
        var take = Math.Min(_releases.Count, (MaxControlBytesPerRecord - 16) / 22);
        var batch = take == _releases.Count ? _releases.ToArray() : _releases.GetRange(0, take).ToArray();
        _releases.RemoveRange(0, take);
        MessageCodec.Write(writer, new Release(batch));
    }

    /// <summary>Writes the flow's next chunk; true when it is latency-sensitive (see <see cref="UrgentChunk"/>).</summary>
    private bool WriteChunkLocked(Flow flow, MemoryBufferWriter writer)
    {
        if (flow.SendDone)
        {
            return false;
        }

        var pending = flow.PendingData;
        var room = writer.Remaining - MessageCodec.MaxDataHeaderSize;
        var credit = SendableLocked(flow);
        int chunk;
        if (flow.Unfragmented && pending.Length > 0)
        {
            // A message goes whole or not at all; it may overdraw positive credit by at most one message.
            if (credit <= 0)
            {
                chunk = 0;
            }
            else if (pending.Length > room)
            {
                _deferred = flow;
                return false;
            }
            else
            {
                chunk = pending.Length;
            }
        }
        else
        {
            chunk = (int)Math.Min(Math.Min(pending.Length, Math.Max(credit, 0)), Math.Min(_remoteMtu, room));
        }

        var close = flow.CloseRequested && !flow.CloseSent && chunk == pending.Length;
        if (chunk == 0 && !close && !flow.OpenPending)
        {
            return false;
        }

        var flags = close ? DataFlags.Close : DataFlags.None;
        var span = writer.GetSpan(MessageCodec.MaxDataHeaderSize + chunk);
        var header = flow.OpenPending
            ? MessageCodec.WriteOpenFlowHeader(span, flow.Id, (ulong)flow.ReceiveWindow, flags, chunk)
            : MessageCodec.WriteDataHeader(span, flow.Id, flags, chunk);
        pending.Span[..chunk].CopyTo(span[header..]);
        writer.Advance(header + chunk);
        flow.OpenPending = false;
        flow.PendingData = pending[chunk..];
        if (flow.Acked)
        {
            flow.SendCredit -= chunk;
        }
        else
        {
            _sharedSendCredit -= chunk;
            flow.SentUnacked += chunk;
        }

        if (chunk > 0)
        {
            Counters.Sent(chunk);
            if (!flow.IsSideChannel)
            {
                Touch();
            }
        }

        if (close)
        {
            flow.CloseSent = true;
            if (flow.ResetOnClose && !flow.RemoteClosed && !_closing)
            {
                // Right after the Close flag, so the peer still sees the end of stream first; if the record is full,
                // the next one (control goes first there) carries it.
                var reset = new CloseFlow(flow.Id, DisposedReason);
                if (writer.Remaining >= MessageCodec.GetEncodedLength(reset))
                {
                    MessageCodec.Write(writer, reset);
                }
                else
                {
                    _control.Enqueue(reset);
                }

                flow.ResetSent = true;
            }
        }

        var finishedShortWrite = false;
        if (flow.WritePending && flow.PendingData.IsEmpty && (!flow.CloseRequested || flow.CloseSent))
        {
            flow.WritePending = false;
            flow.SignalWriteDone();
            finishedShortWrite = chunk < UrgentChunk;
        }

        if (close && flow.RemoteClosed)
        {
            // Both directions done: leave the table after this record is built (outside the lock is not needed:
            // removal only touches the concurrent table and the flow's own completion).
            RemoveFlow(flow);
        }

        return finishedShortWrite || close || chunk == 0;
    }

    // ---------------------------------------------------------------- read loop

    private async Task ReadLoopAsync()
    {
        byte[]? gather = null;
        try
        {
            while (true)
            {
                var frame = await _framed.ReadFrameAsync().ConfigureAwait(false);
                if (frame.IsCompleted)
                {
                    BeginClose(new FlowException(FlowErrorCode.Network, "The peer closed the connection without tearing it down."), sendTearDown: false);
                    return;
                }

                Volatile.Write(ref _lastReceived, TimeProvider.GetTimestamp());
                var payload = frame.Payload;
                if (payload.Length > RecordLayout.MaxFrame || payload.Length < RecordLayout.TagSize)
                {
                    throw new FlowException(FlowErrorCode.BadArg, $"A record of {payload.Length} bytes is outside the protocol's limits.");
                }

                var length = (int)payload.Length - RecordLayout.TagSize;
                var record = RecordBuffer.Rent(Counters, Math.Max(length, 1));
                try
                {
                    if (payload.IsSingleSegment)
                    {
                        _session.ReceiveCipher.Open(payload.FirstSpan, record.Array);
                    }
                    else
                    {
                        gather ??= new byte[RecordLayout.MaxFrame];
                        payload.CopyTo(gather);
                        _session.ReceiveCipher.Open(gather.AsSpan(0, (int)payload.Length), record.Array);
                    }

                    Counters.RecordReceived();
                    Dispatch(record, length);
                }
                finally
                {
                    record.Release();
                }
            }
        }
        catch (PeerTearDownException e)
        {
            BeginClose(e.Reason, sendTearDown: false);
        }
        catch (Exception e)
        {
            // A peer that breaks the protocol is told why before the connection drops.
            BeginClose(AsNetworkError(e, "Reading from the connection failed"), sendTearDown: e is FlowException { Code: FlowErrorCode.BadArg });
        }
        finally
        {
            Counters.LoopStopped();
        }
    }

    private void Dispatch(RecordBuffer record, int length)
    {
        var input = new ReadOnlySequence<byte>(record.Array, 0, length);
        while (!input.IsEmpty)
        {
            if (!MessageCodec.TryRead(input, RecordLayout.MaxPlaintext, out var message, out var consumed))
            {
                throw new FlowException(FlowErrorCode.BadArg, "A record ends inside a message.");
            }

            input = input.Slice(consumed);
            switch (message)
            {
                case Data data:
                    OnData(record, data.FlowId, data.Flags, data.Payload);
                    break;
                case OpenFlow open:
                    OnOpenFlow(record, open);
                    break;
                case Release release:
                    OnRelease(release);
                    break;
                case CloseFlow close:
                    OnCloseFlow(close);
                    break;
                case HealthCheckRequest ping:
                    QueueControl(new HealthCheckResponse(ping.Nonce));
                    break;
                case HealthCheckResponse pong:
                    OnHealthCheckResponse(pong.Nonce);
                    break;
                case EnterLameDuck:
                    Volatile.Write(ref _remoteLameDuck, true);
                    QueueControl(new AckLameDuck());
                    break;
                case AckLameDuck:
                    Volatile.Read(ref _lameDuckAcked)?.TrySetResult();
                    break;
                case TearDown down:
                    throw new PeerTearDownException(new FlowException(down.Code, "The peer closed the connection: " + down.Reason));
                default:
                    throw new FlowException(FlowErrorCode.BadArg, $"Unexpected {message.GetType().Name} message on an established connection.");
            }
        }
    }

    private static int OffsetOf(ReadOnlySequence<byte> payload) =>
        MemoryMarshal.TryGetArray(payload.First, out var segment) ? segment.Offset : throw new InvalidOperationException("Payload is not array-backed.");

    private void OnData(RecordBuffer record, ulong flowId, DataFlags flags, ReadOnlySequence<byte> payload)
    {
        if (!_flows.TryGetValue(flowId, out var flow))
        {
            if (!WasUsed(flowId))
            {
                throw new FlowException(FlowErrorCode.BadArg, $"Data for flow {flowId}, which was never opened.");
            }

            return; // in flight when this side closed or reset the flow
        }

        Counters.Received(payload.Length);
        var length = (int)payload.Length;
        var allowance = RecordLayout.MaxPayload + (flow.IsLocal ? 0 : _allowanceForRemoteFlows);

        // Read before delivering: delivery wakes the reader, which then stops waiting.
        var readerWaiting = flow.ReaderWaiting;
        if (!flow.Deliver(record, length == 0 ? 0 : OffsetOf(payload), length, (flags & DataFlags.Close) != 0, allowance))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The peer sent on flow {flowId} beyond its credit or after closing it.");
        }

        if (length > 0)
        {
            _receiving.OnReceived(ref flow.ReceiveActivity, length, readerWaiting);
            if (!flow.IsSideChannel)
            {
                Touch();
            }
        }

        if ((flags & DataFlags.Close) != 0)
        {
            MaybeFinish(flow);
        }
    }

    private bool WasUsed(ulong flowId)
    {
        var remoteParity = _session.Role == HandshakeRole.Dialer ? 0UL : 1UL;
        if ((flowId & 1) == remoteParity)
        {
            return flowId <= _highestRemoteId;
        }

        lock (_sendLock)
        {
            return flowId < _nextLocalId;
        }
    }

    private void OnOpenFlow(RecordBuffer record, OpenFlow open)
    {
        var remoteParity = _session.Role == HandshakeRole.Dialer ? 0UL : 1UL;
        if ((open.FlowId & 1) != remoteParity || open.FlowId <= _highestRemoteId)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The peer opened flow {open.FlowId}, an identifier it may not use.");
        }

        _highestRemoteId = open.FlowId;
        string? refusal = null;
        Flow? flow = null;
        lock (_sendLock)
        {
            if (_localLameDuck)
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
            else if (!_closing)
            {
                var window = ReserveWindow();
                flow = new Flow(this, open.FlowId, isLocal: false, window, sendCredit: (long)Math.Min(open.InitialCredit, int.MaxValue));
                flow.AckHeld = true; // acknowledged only once it is in the accept backlog
                _flows[open.FlowId] = flow;
                Counters.FlowAdded(local: false);
            }

            if (refusal is not null)
            {
                _control.Enqueue(new CloseFlow(open.FlowId, refusal));
                Counters.FlowRefused();
            }
        }

        _writerSignal.Set();
        if (flow is null)
        {
            return;
        }

        OnData(record, open.FlowId, open.Flags, open.Payload);
        if (_settings.AcceptedFlows!.TryWrite(flow))
        {
            lock (_sendLock)
            {
                // The acknowledgement: the flow's whole window, plus anything the application already released.
                flow.AckHeld = false;
                _releases.Add(new FlowCredit(flow.Id, (ulong)(flow.ReceiveWindow + flow.HeldCredit)));
                flow.HeldCredit = 0;
            }

            _writerSignal.Set();
            return;
        }

        // Never acknowledged, so the opener reads the CloseFlow as a refusal and gets its shared credit back.
        Counters.FlowRefused();
        AbortFlow(flow, new FlowException(FlowErrorCode.BadState, "The accept backlog is full."));
    }

    private void OnRelease(Release release)
    {
        lock (_sendLock)
        {
            foreach (var credit in release.Credits)
            {
                if (!_flows.TryGetValue(credit.FlowId, out var flow) || flow.SendDone)
                {
                    continue;
                }

                var bytes = (long)Math.Min(credit.Bytes, int.MaxValue);
                if (!flow.Acked)
                {
                    // The first release of a flow this side opened acknowledges it: bytes sent on shared credit now
                    // count against the flow's own window, and the shared credit comes back.
                    flow.Acked = true;
                    flow.SendCredit = bytes - flow.SentUnacked;
                    ReturnSharedCreditLocked(flow);
                }
                else
                {
                    flow.SendCredit += bytes;
                }

                MakeReadyLocked(flow);
            }

            // Most releases (every acknowledgement of a flow whose first bytes rode with its open) leave nothing to send:
            // waking the writer for them would cost a thread hop each.
            if (_ready.Count == 0)
            {
                return;
            }
        }

        _writerSignal.Set();
    }

    /// <summary>
    /// Gives back the shared credit an unacknowledged flow used. Only when that credit had run out can another flow be
    /// waiting for it, so only then are the flows scanned (a snapshot of the table, under the send lock).
    /// </summary>
    private void ReturnSharedCreditLocked(Flow flow)
    {
        var wasExhausted = _sharedSendCredit <= 0;
        _sharedSendCredit += flow.SentUnacked;
        flow.SentUnacked = 0;
        if (wasExhausted && _sharedSendCredit > 0)
        {
            foreach (var other in _flows.Values)
            {
                MakeReadyLocked(other);
            }
        }
    }

    private void OnCloseFlow(CloseFlow close)
    {
        if (!_flows.TryGetValue(close.FlowId, out var flow))
        {
            return;
        }

        var error = new FlowException(FlowErrorCode.Aborted, "The peer closed the flow: " + close.Reason);
        var wake = false;
        lock (_sendLock)
        {
            if (!flow.Acked)
            {
                ReturnSharedCreditLocked(flow);
                wake = _ready.Count > 0; // flows that waited for the shared credit it returned
                error = new FlowException(FlowErrorCode.BadState, "The peer refused the flow: " + close.Reason);
            }

            FinishSendLocked(flow, error);
            flow.CloseSent = true;
        }

        if (wake)
        {
            _writerSignal.Set();
        }

        flow.FailReceive(error, keepBuffered: true);
        RemoveFlow(flow);
    }

    // ---------------------------------------------------------------- health and lame duck

    private void QueueControl(Message message)
    {
        lock (_sendLock)
        {
            if (_closing)
            {
                return;
            }

            _control.Enqueue(message);
        }

        _writerSignal.Set();
    }

    private void SendHealthCheck()
    {
        lock (_sendLock)
        {
            if (_closing || _pingSentAt != 0)
            {
                return;
            }

            _pingNonce++;
            _pingSentAt = TimeProvider.GetTimestamp();
            _pingDataMark = DataMoved();
            _control.Enqueue(new HealthCheckRequest(_pingNonce));
        }

        _writerSignal.Set();
    }

    private void OnHealthCheckResponse(ulong nonce)
    {
        bool again;
        lock (_sendLock)
        {
            if (nonce != _pingNonce || _pingSentAt == 0)
            {
                return;
            }

            _rtt.OnSample(TimeProvider.GetElapsedTime(_pingSentAt), dataMoved: DataMoved() != _pingDataMark);
            _pingSentAt = 0;

            Volatile.Write(ref _rttSampledAt, TimeProvider.GetTimestamp());

            // The first sample is taken right after the handshake, while the peer may still be starting up (and, in
            // a fresh process, compiling the data path): a few more right away give window tuning a realistic minimum.
            again = ++_rttSamples < StartupRttSamples;
        }

        if (again)
        {
            SendHealthCheck();
        }
    }

    /// <summary>Flow data bytes sent and received so far: an RTT sample is clean when this did not change during it.</summary>
    private long DataMoved() => Counters.BytesSent + Counters.BytesReceived;

    /// <summary>
    /// Asks for a new RTT sample when the last one is older than <see cref="RttRefreshInterval"/>: called as flows
    /// return credit, so a busy connection keeps learning its RTT (a path may get faster) without pinging when idle.
    /// </summary>
    internal void RefreshRttIfStale()
    {
        var sampledAt = Volatile.Read(ref _rttSampledAt);
        if (sampledAt != 0 && TimeProvider.GetElapsedTime(sampledAt) >= RttRefreshInterval)
        {
            SendHealthCheck();
        }
    }

    private void OnHealthTimer()
    {
        var silent = TimeProvider.GetElapsedTime(Volatile.Read(ref _lastReceived));
        if (silent >= Options.ChannelTimeout)
        {
            LogChannelTimeout(_logger, RemoteEndpoint, silent);
            BeginClose(new FlowException(FlowErrorCode.Network, $"The peer was silent for {silent}, past the channel timeout of {Options.ChannelTimeout}."), sendTearDown: true);
        }
        else if (silent >= Options.EffectiveHealthCheckInterval)
        {
            SendHealthCheck();
        }
    }

    /// <summary>
    /// Tells the peer this side accepts no new flows here; completes when the peer acknowledged. Open flows go on.
    /// </summary>
    public async Task EnterLameDuckAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource acked;
        lock (_sendLock)
        {
            if (_closing)
            {
                throw ClosedError();
            }

            if (_lameDuckAcked is null)
            {
                _lameDuckAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _localLameDuck = true;
                _control.Enqueue(new EnterLameDuck());
            }

            acked = _lameDuckAcked;
        }

        _writerSignal.Set();
        await acked.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- closing

    /// <summary>Closes the connection: the peer is told, every open flow is aborted. Completes when all loops ended.</summary>
    public Task CloseAsync(string reason = "closed locally")
    {
        BeginClose(new FlowException(FlowErrorCode.Aborted, "The connection was closed: " + reason), sendTearDown: true, localOrderly: true);
        return Closed;
    }

    public ValueTask DisposeAsync() => new(CloseAsync("disposed"));

    private void BeginClose(FlowException reason, bool sendTearDown, bool localOrderly = false)
    {
        lock (_sendLock)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            Volatile.Write(ref _closeReason, localOrderly ? null : reason);
            if (sendTearDown)
            {
                _control.Enqueue(new TearDown(localOrderly ? FlowErrorCode.Aborted : reason.Code, reason.Message));
                _teardownQueued = true;
            }
        }

        if (!localOrderly)
        {
            LogClosing(_logger, RemoteEndpoint, reason.Code, reason.Message);
        }

        _writerSignal.Set();
        _ = FinishCloseAsync(reason);
    }

    private async Task FinishCloseAsync(FlowException reason)
    {
        if (_healthTimer is { } timer)
        {
            timer.Dispose();
            Counters.LoopStopped();
        }

        // Give the writer a moment to put the teardown on the wire; a peer that does not read cannot hold us.
        var wroteAll = await CompletesWithinAsync(_writeLoop, CloseGrace).ConfigureAwait(false);
        if (wroteAll)
        {
            // Graceful: the peer still reads everything sent, the teardown included, then sees the end.
            await _framed.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _framed.Abort(reason);
            _writerSignal.Set();
        }

        await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
        await _framed.DisposeAsync().ConfigureAwait(false);

        var flowError = new FlowException(FlowErrorCode.Aborted, "The connection closed: " + reason.Message, reason);
        foreach (var flow in _flows.Values)
        {
            lock (_sendLock)
            {
                FinishSendLocked(flow, flowError);
            }

            flow.FailReceive(flowError, keepBuffered: false);
            RemoveFlow(flow);
        }

        lock (_sendLock)
        {
            _ready.Clear();
            _control.Clear();
            _releases.Clear();
            _deferred = null;
            _lameDuckAcked?.TrySetException(flowError);
        }

        Unreserve(Options.SharedCredit);
        _session.SendCipher.Dispose();
        _session.ReceiveCipher.Dispose();
        Action[] callbacks;
        lock (_sendLock)
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
    /// Whether <paramref name="task"/> ends within <paramref name="timeout"/>. The grace timer is cancelled as soon as it
    /// does: a plain <c>Task.Delay</c> would stay queued for the whole grace after every close and then fire for
    /// nothing (a thousand timer callbacks a second when connections churn, as in the handshake benchmark).
    /// </summary>
    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout)
    {
        if (task.IsCompleted)
        {
            return true;
        }

        using var grace = new CancellationTokenSource();
        var first = await Task.WhenAny(task, Task.Delay(timeout, TimeProvider, grace.Token)).ConfigureAwait(false);
        await grace.CancelAsync().ConfigureAwait(false);
        return first == task;
    }

    /// <summary>
    /// Runs <paramref name="callback"/> when the connection has closed, before <see cref="Closed"/> completes, so
    /// whoever awaits <see cref="Closed"/> already sees its effects (the manager's cache dropping the connection).
    /// </summary>
    internal void OnClosed(Action callback)
    {
        lock (_sendLock)
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

    private static FlowException AsNetworkError(Exception e, string what) => e switch
    {
        FlowException flow => flow,
        _ => new FlowException(FlowErrorCode.Network, what + ": " + e.Message, e),
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection to {Remote} closing: {Code} {Reason}")]
    private static partial void LogClosing(ILogger logger, Endpoint remote, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Remote} silent for {Silence}; closing it")]
    private static partial void LogChannelTimeout(ILogger logger, Endpoint remote, TimeSpan silence);

    /// <summary>Carries a peer's teardown out of the read loop so it is not echoed back.</summary>
    private sealed class PeerTearDownException(FlowException reason) : Exception(reason.Message, reason)
    {
        public FlowException Reason { get; } = reason;
    }
}
