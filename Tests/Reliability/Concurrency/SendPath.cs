using System.Reflection;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Tests.Flows;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Tests.Reliability.Concurrency;

/// <summary>
/// A connection's send path taken apart at its seams, for <see cref="Interleavings"/>: the real
/// <see cref="SendQueue"/>, <see cref="CreditLedger"/>, <see cref="RecordWriter"/> and flows' send halves, with each
/// party's work as atomic steps. The steps make the same calls, in the same order and under the same lock, as the
/// code they stand for (named on each); what runs between two steps in the real connection (a thread hop, an await)
/// is where the explorer interleaves. The writer loop is the real writer's own signal: a loop turn drains when it
/// was signalled, as <c>RecordWriter</c>'s loop does.
/// </summary>
internal sealed class SendPath : IDisposable
{
    // The loop's own signal and role state, read as the loop reads them (RecordWriter.LoopAsync), so the explored loop
    // wakes exactly when the real one would and ends when it would.
    private static readonly FieldInfo WriterSignal = WriterField("_signal");
    private static readonly FieldInfo WriterState = WriterField("_state");
    private const int WriterStopped = 2;

    private readonly FakeFlowConnection _flows = new();
    private readonly CapturingFramedConnection _framed = new();
    private readonly RecordCipher _cipher = new(CipherSuite.Aes256Gcm, new byte[32], new byte[12]);
    private readonly AsyncSignal _loopSignal;
    private readonly Dictionary<Flow, ValueTask?> _writes = [];
    private readonly HashSet<Flow> _refused = [];
    private ValueTask? _loopWait;
    private TaskCompletionSource? _lameDuckAcked;
    private bool _lameDuckRequested;
    private bool _loopEnded;

    public SendPath(long peerSharedCredit, int remoteMtu = 64 * 1024)
    {
        Ledger = new CreditLedger(new ConnectionOptions(), Counters, peerSharedCredit);
        Granted = peerSharedCredit;
        Queue = new SendQueue(Ledger, Counters);
        Host = new WriterHost();
        Writer = new RecordWriter(Host, _framed, _cipher, Queue, Ledger, Counters, remoteMtu);
        _loopSignal = (AsyncSignal)WriterSignal.GetValue(Writer)!;
    }

    public ConnectionCounters Counters { get; } = new();

    /// <summary>Every byte the peer let this side send: the shared credit, flows' initial credit and each release.</summary>
    public long Granted { get; private set; }

    public CreditLedger Ledger { get; }

    public SendQueue Queue { get; }

    public RecordWriter Writer { get; }

    public WriterHost Host { get; }

    public List<Flow> Flows { get; } = [];

    /// <summary>How each write the application finished ended: null for success, else its exception.</summary>
    public List<(Flow Flow, Exception? Error)> EndedWrites { get; } = [];

    /// <summary>A flow this side opened (unacknowledged: it sends on the shared credit), or one the peer opened with <paramref name="credit"/>.</summary>
    public Flow AddFlow(ulong id, bool isLocal, long credit = 0)
    {
        var flow = _flows.NewFlow(id, isLocal, credit);
        Flows.Add(flow);
        Granted += credit;
        return flow;
    }

    // ---- the application (Flow.WriteCoreAsync: BeginWrite, KickWriterAsync, WaitForWriteAsync, EndWrite) ----

    /// <summary>Starts a write: registers it and kicks the writer, which drains inline when nobody else writes.</summary>
    public Step BeginWrite(Flow flow, int bytes, bool close = false) => Step.Always($"write {bytes}{(close ? "+close" : "")} on {flow.Id}", () =>
    {
        bool registered;
        try
        {
            registered = Queue.BeginWrite(flow, new byte[bytes], close);
        }
        catch (FlowException e)
        {
            // The flow cannot take it (failed, refused, closed): the application's write throws at once.
            EndedWrites.Add((flow, e));
            _writes[flow] = ValueTask.CompletedTask;
            _refused.Add(flow);
            return;
        }

        if (!registered)
        {
            _writes[flow] = ValueTask.CompletedTask;
            return;
        }

        var kick = Writer.KickAsync();
        if (!kick.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("An inline drain did not complete at once: the explorer needs flushes that do not wait.");
        }

#pragma warning disable CA2012 // Kept to be polled, then consumed once: awaiting would hop to the thread pool, out of the explorer's order.
        _writes[flow] = flow.Send.WaitForWriteAsync();
#pragma warning restore CA2012
    });

    /// <summary>Waits for the flow's write to be done, failed or cancelled, then ends it (its error is recorded).</summary>
    public Step EndWrite(Flow flow) => new($"end write on {flow.Id}", () => _writes.TryGetValue(flow, out var wait) && wait is { IsCompleted: true }, () =>
    {
        _writes[flow]!.Value.GetAwaiter().GetResult();
        _writes.Remove(flow);
        if (_refused.Remove(flow))
        {
            return;
        }

        try
        {
            Queue.EndWrite(flow, CancellationToken.None);
            EndedWrites.Add((flow, null));
        }
        catch (Exception e) when (e is FlowException or OperationCanceledException)
        {
            EndedWrites.Add((flow, e));
        }
    });

    /// <summary>The write's cancellation token fires (Flow.WriteCoreAsync's registration).</summary>
    public Step CancelWrite(Flow flow) => Step.Always($"cancel write on {flow.Id}", () => Queue.CancelWrite(flow));

    // ---- the peer, through the read loop ----

    /// <summary>A Release granting <paramref name="bytes"/> to the flow (InboundDispatcher.OnRelease).</summary>
    public Step Release(Flow flow, long bytes) => Step.Always($"release {bytes} to {flow.Id}", () =>
    {
        lock (Queue.Lock)
        {
            if (flow.Send.IsFinished)
            {
                return;
            }

            Granted += bytes;
            var returned = flow.Send.AddCredit(bytes);
            if (returned > 0 && Ledger.ReturnSharedLocked(returned))
            {
                MakeAllReadyLocked();
            }

            Queue.MakeReadyLocked(flow);
            if (!Queue.HasReadyLocked)
            {
                return;
            }
        }

        Writer.Signal();
    });

    /// <summary>A CloseFlow from the peer, refusing a flow this side opened (InboundDispatcher.OnCloseFlow, send half).</summary>
    public Step Refuse(Flow flow) => Step.Always($"peer refuses {flow.Id}", () =>
    {
        var wake = false;
        lock (Queue.Lock)
        {
            if (Ledger.ReturnSharedLocked(flow.Send.TakeDebt()))
            {
                MakeAllReadyLocked();
            }

            wake = Queue.HasReadyLocked;

            flow.Send.Finish(new FlowException(FlowErrorCode.BadState, "The peer refused the flow."));
            flow.Send.MarkCloseSent();
        }

        if (wake)
        {
            Writer.Signal();
        }
    });

    // ---- closing (ManagedConnection.BeginClose, then FinishCloseAsync once the writer is done) ----

    public Step BeginClose() => Step.Always("close begins", () =>
    {
        lock (Queue.Lock)
        {
            Queue.TryBeginClosingLocked(new TearDown(FlowErrorCode.Aborted, "closing"));
        }

        Writer.Signal();
    });

    /// <summary>Once the teardown went out (the writer has stopped), fails every flow's send half and drops the queues.</summary>
    public Step FinishClose() => new("close finishes", () => Queue.IsClosing && !Queue.HasQueuedTearDown(), () =>
    {
        var error = new FlowException(FlowErrorCode.Aborted, "The connection closed.");
        foreach (var flow in Flows)
        {
            lock (Queue.Lock)
            {
                flow.Send.Finish(error);
            }
        }

        lock (Queue.Lock)
        {
            Queue.ClearLocked();
            _lameDuckAcked?.TrySetException(error);
        }
    });

    // ---- the writer loop (RecordWriter.LoopAsync: wait for the signal, take the role, drain) ----

    public Step LoopTurn(int turn) => Step.Always($"writer turn {turn}", () => TryLoopTurn());

    /// <summary>A loop turn when the writer's signal is set, as the loop would take once it got the CPU; false when it is not.</summary>
    public bool Quiesce() => TryLoopTurn();

    /// <summary>How asking the peer to enter lame duck ended: null while waiting, else its exception (or none).</summary>
    public (Exception? Error, bool Ended) LameDuck { get; private set; }

    /// <summary>This side asks the peer for lame duck (ManagedConnection.EnterLameDuckAsync, up to its wait).</summary>
    public Step EnterLameDuck() => Step.Always("enter lame duck", () =>
    {
        lock (Queue.Lock)
        {
            if (Queue.IsClosingLocked)
            {
                LameDuck = (new FlowException(FlowErrorCode.Aborted, "The connection is closed."), true);
                return;
            }

            if (_lameDuckAcked is null)
            {
                _lameDuckAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _lameDuckRequested = true;
                Queue.EnqueueControlLocked(new EnterLameDuck());
            }
        }

        Writer.Signal();
    });

    /// <summary>The EnterLameDuckAsync call returns, once its acknowledgement came or the connection closed.</summary>
    public Step LameDuckAnswered() => new("lame duck answered", () => LameDuck.Ended || _lameDuckAcked is { Task.IsCompleted: true }, () =>
    {
        if (!LameDuck.Ended)
        {
            LameDuck = (_lameDuckAcked!.Task.Exception?.InnerException, true);
        }
    });

    /// <summary>
    /// The peer's AckLameDuck arrives (ManagedConnection.OnLameDuckAcknowledged) once the request went out; on a
    /// closing connection, where the request may never go, it is a step that changes nothing.
    /// </summary>
    public Step AckLameDuck() => new("peer acks lame duck", () => Queue.IsClosing || LameDuckSent(), () =>
    {
        if (LameDuckSent())
        {
            _lameDuckAcked?.TrySetResult();
        }
    });

    /// <summary>Whether a write on <paramref name="flow"/> is still waiting.</summary>
    public bool IsWaiting(Flow flow) => _writes.TryGetValue(flow, out var wait) && wait is { IsCompleted: false };

    public void Dispose() => _cipher.Dispose();

    private static FieldInfo WriterField(string name) => typeof(RecordWriter).GetField(name, BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException($"RecordWriter no longer has its {name}: the explorer's writer loop must follow it.");

    private bool TryLoopTurn()
    {
        if (_loopEnded)
        {
            return false;
        }

#pragma warning disable CA2012 // As for the writes: polled, then consumed once.
        _loopWait ??= _loopSignal.WaitAsync();
#pragma warning restore CA2012
        if (!_loopWait.Value.IsCompleted)
        {
            return false;
        }

        _loopWait.Value.GetAwaiter().GetResult();
        _loopWait = null;
        if ((int)WriterState.GetValue(Writer)! == WriterStopped)
        {
            _loopEnded = true; // the last record went out: the loop returns
            return true;
        }

        var drain = Writer.KickAsync();
        if (!drain.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("A drain did not complete at once: the explorer needs flushes that do not wait.");
        }

        return true;
    }

    /// <summary>The EnterLameDuck left the control queue (the writer took it, or closing dropped it).</summary>
    private bool LameDuckSent()
    {
        lock (Queue.Lock)
        {
            return _lameDuckRequested && !Queue.HasControlLocked;
        }
    }

    /// <summary>ManagedConnection.MakeAllReadyLocked.</summary>
    private void MakeAllReadyLocked()
    {
        foreach (var flow in Flows)
        {
            Queue.MakeReadyLocked(flow);
        }
    }

    /// <summary>What the writer tells its connection.</summary>
    internal sealed class WriterHost : IRecordWriterHost
    {
        public List<Exception> Failures { get; } = [];

        public void OnDataSent()
        {
        }

        public void OnFlowFinished(Flow flow)
        {
        }

        public void OnWriteFailed(Exception error) => Failures.Add(error);
    }
}
