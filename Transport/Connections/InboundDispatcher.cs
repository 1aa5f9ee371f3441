using System.Buffers;
using System.Runtime.InteropServices;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's read loop: opens each record into a pooled <see cref="RecordBuffer"/> and dispatches its messages.
/// Flow data is handed to flows as slices of that buffer, without copying; a flow the peer opens is added to the flow
/// table and offered to the accept backlog; credit goes to the flows' send halves; health checks and lame duck
/// notices to their owners. Any violation of the protocol ends the loop with an error that closes the connection.
/// </summary>
/// <remarks>It never blocks on a flow's reader or on the writer: everything it hands on is queued.</remarks>
internal sealed class InboundDispatcher
{
    private readonly ManagedConnection _connection;
    private readonly IFramedConnection _framed;
    private readonly RecordCipher _cipher;
    private readonly SendQueue _queue;
    private readonly CreditLedger _ledger;
    private readonly RecordWriter _writer;
    private readonly ConnectionHealth _health;
    private readonly ReceivingFlows _receiving;
    private readonly ConnectionCounters _counters;
    private readonly ulong _remoteParity;
    private readonly long _controlBudget;
    private ulong _highestRemoteId;

    public InboundDispatcher(
        ManagedConnection connection, IFramedConnection framed, RecordCipher cipher, SendQueue queue, CreditLedger ledger,
        RecordWriter writer, ConnectionHealth health, ReceivingFlows receiving, ConnectionCounters counters, HandshakeRole role)
    {
        _connection = connection;
        _framed = framed;
        _cipher = cipher;
        _queue = queue;
        _ledger = ledger;
        _writer = writer;
        _health = health;
        _receiving = receiving;
        _counters = counters;

        _controlBudget = connection.Options.ControlBudget;

        // Dialers open odd flow IDs, acceptors even ones.
        _remoteParity = role == HandshakeRole.Dialer ? 0UL : 1UL;
    }

    /// <summary>The read loop; completes when the connection stops reading, for whatever reason.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start()
    {
        _counters.LoopStarted();
        Completion = Task.Run(ReadLoopAsync);
    }

    /// <summary>Whether <paramref name="flowId"/> names a flow the peer opened at some point.</summary>
    public bool IsRemoteFlowId(ulong flowId) => (flowId & 1) == _remoteParity;

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
                    _connection.BeginClose(new FlowException(FlowErrorCode.Network, "The peer closed the connection without tearing it down."), sendTearDown: false);
                    return;
                }

                _health.OnFrameReceived();
                var payload = frame.Payload;
                if (payload.Length > RecordLayout.MaxFrame || payload.Length < RecordLayout.TagSize)
                {
                    throw new FlowException(FlowErrorCode.BadArg, $"A record of {payload.Length} bytes is outside the protocol's limits.");
                }

                var length = (int)payload.Length - RecordLayout.TagSize;
                var record = RecordBuffer.Rent(_counters, Math.Max(length, 1));
                try
                {
                    if (payload.IsSingleSegment)
                    {
                        _cipher.Open(payload.FirstSpan, record.Array);
                    }
                    else
                    {
                        gather ??= new byte[RecordLayout.MaxFrame];
                        payload.CopyTo(gather);
                        _cipher.Open(gather.AsSpan(0, (int)payload.Length), record.Array);
                    }

                    _counters.RecordReceived();
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
            _connection.BeginClose(e.Reason, sendTearDown: false);
        }
        catch (Exception e)
        {
            // A peer that breaks the protocol is told why before the connection drops.
            _connection.Fail(e, "Reading from the connection failed", tellPeer: e is FlowException { Code: FlowErrorCode.BadArg });
        }
        finally
        {
            _counters.LoopStopped();
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
                    if (_queue.AnswerHealthCheck(ping.Nonce))
                    {
                        _counters.HealthCheckSent();
                        _writer.Signal();
                    }

                    break;
                case HealthCheckResponse pong:
                    _health.OnResponse(pong.Nonce);
                    break;
                case EnterLameDuck:
                    _connection.OnRemoteLameDuck();
                    if (_queue.AcknowledgeLameDuck())
                    {
                        _writer.Signal();
                    }

                    break;
                case AckLameDuck:
                    _connection.OnLameDuckAcknowledged();
                    break;
                case Auth auth:
                    _connection.OnPeerDischarges(auth);
                    break;
                case TearDown down:
                    throw new PeerTearDownException(new FlowException(down.Code, "The peer closed the connection: " + down.Reason));
                default:
                    throw new FlowException(FlowErrorCode.BadArg, $"Unexpected {message.GetType().Name} message on an established connection.");
            }

            // What waits for the peer is bounded: a peer that makes this side queue answers, refusals and credit but
            // never reads them is cut off.
            if (_counters.QueuedControlBytes > _controlBudget)
            {
                throw new FlowException(FlowErrorCode.BadArg,
                    $"The peer left {_counters.QueuedControlBytes} bytes of control messages unread, above the budget of {_controlBudget}.");
            }
        }
    }

    private static int OffsetOf(ReadOnlySequence<byte> payload) =>
        MemoryMarshal.TryGetArray(payload.First, out var segment) ? segment.Offset : throw new InvalidOperationException("Payload is not array-backed.");

    private void OnData(RecordBuffer record, ulong flowId, DataFlags flags, ReadOnlySequence<byte> payload)
    {
        if (!_connection.TryGetFlow(flowId, out var flow))
        {
            if (!WasUsed(flowId))
            {
                throw new FlowException(FlowErrorCode.BadArg, $"Data for flow {flowId}, which was never opened.");
            }

            return; // in flight when this side closed or reset the flow
        }

        _counters.Received(payload.Length);
        var length = (int)payload.Length;

        // Read before delivering: delivery wakes the reader, which then stops waiting.
        var readerWaiting = flow.ReaderWaiting;
        if (!flow.Deliver(record, length == 0 ? 0 : OffsetOf(payload), length, (flags & DataFlags.Close) != 0))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The peer sent on flow {flowId} beyond its credit or after closing it.");
        }

        if (length > 0)
        {
            if (flow.Send.AcknowledgementRiding)
            {
                _connection.OnRidingAckData(flow, length);
            }

            _receiving.OnReceived(ref flow.ReceiveActivity, length, readerWaiting);
            if (!flow.IsSideChannel)
            {
                _connection.Touch();
            }
        }

        if ((flags & DataFlags.Close) != 0)
        {
            _connection.RemoveIfDone(flow);
        }
    }

    private bool WasUsed(ulong flowId) => IsRemoteFlowId(flowId) ? flowId <= _highestRemoteId : _connection.WasOpenedLocally(flowId);

    private void OnOpenFlow(RecordBuffer record, OpenFlow open)
    {
        if (!IsRemoteFlowId(open.FlowId) || open.FlowId <= _highestRemoteId)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The peer opened flow {open.FlowId}, an identifier it may not use.");
        }

        _highestRemoteId = open.FlowId;
        var flow = _connection.TryAddRemoteFlow(open);
        if (flow is null)
        {
            _writer.Signal(); // the refusal
            return;
        }

        OnData(record, open.FlowId, open.Flags, open.Payload);
        _connection.OfferToAcceptor(flow, (int)open.Payload.Length);
    }

    private void OnRelease(Release release)
    {
        lock (_queue.Lock)
        {
            foreach (var credit in release.Credits)
            {
                // Credit pays a flow's debt on the shared credit back first, also for a flow that finished sending or
                // left the table (then the peer is settling what the flow left owing).
                var bytes = (long)Math.Min(credit.Bytes, int.MaxValue);
                var found = _connection.TryGetFlow(credit.FlowId, out var flow);
                var returned = found ? flow!.Send.AddCredit(bytes) : _ledger.PayLeftDebtLocked(credit.FlowId, bytes);
                if (_ledger.ReturnSharedLocked(returned))
                {
                    _connection.MakeAllReadyLocked();
                }

                if (found)
                {
                    _queue.MakeReadyLocked(flow!);
                }
            }

            // Most releases (every acknowledgement of a flow whose first bytes rode with its open) leave nothing to send:
            // waking the writer for them would cost a thread hop each.
            if (!_queue.HasReadyLocked)
            {
                return;
            }
        }

        _writer.Signal();
    }

    private void OnCloseFlow(CloseFlow close)
    {
        // The peer dropped whatever this side sent on the flow: the flow's debt on the shared credit is written off.
        bool wake;
        if (!_connection.TryGetFlow(close.FlowId, out var flow))
        {
            lock (_queue.Lock)
            {
                wake = _ledger.ReturnSharedLocked(_ledger.WriteOffLeftDebtLocked(close.FlowId));
                if (wake)
                {
                    _connection.MakeAllReadyLocked();
                }
            }

            if (wake)
            {
                _writer.Signal();
            }

            return;
        }

        var error = new FlowException(FlowErrorCode.Aborted, "The peer closed the flow: " + close.Reason);
        lock (_queue.Lock)
        {
            if (_ledger.ReturnSharedLocked(flow.Send.TakeDebt()))
            {
                _connection.MakeAllReadyLocked();
            }

            wake = _queue.HasReadyLocked; // flows that waited for the shared credit it returned
            if (!flow.Send.IsAcknowledged)
            {
                // A refusal says why (NotTrusted, or BadState for lame duck, limits, a full backlog).
                var code = close.Code == FlowErrorCode.Aborted ? FlowErrorCode.BadState : close.Code;
                error = new FlowException(code, "The peer refused the flow: " + close.Reason);
            }

            flow.Send.Finish(error);
            flow.Send.MarkCloseSent();
        }

        if (wake)
        {
            _writer.Signal();
        }

        flow.FailReceive(error, keepBuffered: true);
        _connection.RemoveFlow(flow);
    }

    /// <summary>Carries a peer's teardown out of the message loop so it is not echoed back.</summary>
    private sealed class PeerTearDownException(FlowException reason) : Exception(reason.Message, reason)
    {
        public FlowException Reason { get; } = reason;
    }
}
