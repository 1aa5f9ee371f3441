using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Transport.Connections;

/// <summary>A connection's lifecycle: lame duck both ways, and closing, orderly or after a failure.</summary>
public sealed partial class ManagedConnection
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a failed send waits for the peer's last records to be read. A wait for I/O, on the real clock: a peer
    /// that reset the connection ends the read within microseconds, and a test's fake clock must not stall the close.
    /// </summary>
    private static readonly TimeSpan WriteFailureReadGrace = TimeSpan.FromMilliseconds(250);

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

    void IRecordWriterHost.OnFlowFinished(Flow flow) => RemoveFlowLocked(flow);

    void IRecordWriterHost.OnWriteFailed(Exception error) => _ = FailWriteAsync(error);

    /// <summary>
    /// A send fails once the peer has gone, and what it said before going (its teardown, with the reason) may still be
    /// coming in: the inbound loop reads on to the connection's end first, for at most <see cref="WriteFailureReadGrace"/>,
    /// so the peer's reason wins over this side's broken pipe.
    /// </summary>
    private async Task FailWriteAsync(Exception error)
    {
        await _inbound.Completion.CompletesWithinAsync(WriteFailureReadGrace, TimeProvider.System).ConfigureAwait(false);
        Fail(error, "Writing to the connection failed");
    }

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
