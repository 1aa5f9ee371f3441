using System.Buffers;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// Builds, seals and sends a connection's records from its <see cref="SendQueue"/>: credit owed to the peer, then
/// control messages, then flow data round-robin, an MTU per flow per turn. Whoever holds the writer role builds: the
/// writer loop, or an application write draining inline when nobody else is writing (which saves a thread hop per
/// message). Bulk records are flushed in batches; a record carrying a control message or the end of a short write is
/// flushed at once.
/// </summary>
internal sealed class RecordWriter
{
    private const int FlushThreshold = 256 * 1024;

    // A record that ends a write shorter than this (a message, a request) is flushed at once instead of after
    // FlushThreshold of bulk records: otherwise a ping that shares a record with bulk data waits for a quarter MiB of
    // sealing behind it before the socket sees it.
    private const int UrgentChunk = 16 * 1024;
    private const int MaxControlBytesPerRecord = RecordLayout.MaxPlaintext - RecordLayout.MaxPayload - 64;

    // Who builds records: nobody (free), the writer loop or an application write draining inline (owned), or nobody
    // ever again (stopped: the teardown went out or writing failed). Exactly one owner touches the record buffer and
    // the framed connection's output.
    private const int WriterFree = 0;
    private const int WriterOwned = 1;
    private const int WriterStopped = 2;

    private readonly IRecordWriterHost _host;
    private readonly IFramedConnection _framed;
    private readonly RecordCipher _cipher;
    private readonly SendQueue _queue;
    private readonly CreditLedger _ledger;
    private readonly ConnectionCounters _counters;
    private readonly int _remoteMtu;
    private readonly MemoryBufferWriter _recordWriter = new();
    private readonly AsyncSignal _signal = new();
    private int _state;

    public RecordWriter(
        IRecordWriterHost host, IFramedConnection framed, RecordCipher cipher, SendQueue queue, CreditLedger ledger,
        ConnectionCounters counters, int remoteMtu)
    {
        _host = host;
        _framed = framed;
        _cipher = cipher;
        _queue = queue;
        _ledger = ledger;
        _counters = counters;
        _remoteMtu = remoteMtu;
    }

    /// <summary>The writer loop; completes once the connection's last record went out or writing failed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start()
    {
        _counters.LoopStarted();
        Completion = Task.Run(LoopAsync);
    }

    /// <summary>Wakes the writer loop: there is work, or the connection is closing.</summary>
    public void Signal() => _signal.Set();

    /// <summary>
    /// Sends what is queued on the caller's thread when no one else is writing; otherwise signals the loop. Only onto
    /// an output that is not backed up: with under <see cref="FlushThreshold"/> unsent, and at most that much more
    /// built inline, the flush stays below the transport's pause threshold and never waits for the peer, so an
    /// application write cannot get stuck (uncancellable) in a flush. A backed-up output is the loop's to wait on.
    /// </summary>
    public ValueTask KickAsync()
    {
        if (_framed.PendingWriteBytes >= FlushThreshold
            || Interlocked.CompareExchange(ref _state, WriterOwned, WriterFree) != WriterFree)
        {
            _signal.Set();
            return ValueTask.CompletedTask;
        }

        return DrainInlineAsync();
    }

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync().ConfigureAwait(false);
                var state = Interlocked.CompareExchange(ref _state, WriterOwned, WriterFree);
                if (state == WriterStopped)
                {
                    return;
                }

                if (state == WriterOwned)
                {
                    continue; // an application write is draining inline; it signals again if work is left
                }

                // The scratch is rented per drain, not for the loop's life: an idle connection holds no record
                // buffer (docs/benchmarks.md, "Cost as work grows").
                var scratch = ArrayPool<byte>.Shared.Rent(RecordLayout.MaxPlaintext);
                try
                {
                    if (await DrainOwnedAsync(scratch, inline: false).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(scratch);
                }
            }
        }
        finally
        {
            _counters.LoopStopped();
        }
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
    /// Builds, seals and flushes records until nothing is ready, holding the writer role. Hands the role back, or
    /// retires it when the connection's last record went out or writing failed: then true, and the loop ends.
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
            _host.OnWriteFailed(e);
            stop = true;
        }

        if (stop)
        {
            Volatile.Write(ref _state, WriterStopped);
            _signal.Set(); // the loop may be waiting: let it see the end
            return true;
        }

        // Hand the role back, then look again: work queued while we held it signalled a loop that could not take it.
        Interlocked.Exchange(ref _state, WriterFree);
        if (_queue.HasWork())
        {
            _signal.Set();
        }

        return false;
    }

    /// <summary>
    /// Builds and sends records until nothing is ready (inline: or <see cref="FlushThreshold"/> bytes were built);
    /// true to stop for good.
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
                _cipher.Seal(scratch.AsSpan(0, length), frame.Span);
                _framed.CommitFrame();
                _counters.RecordSent();
            }

            built += length;
            if (stop || !more || urgent || (inline && built >= FlushThreshold))
            {
                await _framed.FlushAsync().ConfigureAwait(false);
                return stop || (_queue.IsClosing && !_queue.HasQueuedTearDown());
            }

            if (_framed.PendingWriteBytes >= FlushThreshold)
            {
                await _framed.FlushAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Fills one record's plaintext: credit releases, control messages, then flow data round-robin.</summary>
    private int BuildRecord(byte[] scratch, out bool more, out bool stop, out bool urgent)
    {
        stop = false;
        var writer = _recordWriter;
        writer.Reset(scratch.AsMemory(0, RecordLayout.MaxPlaintext));
        lock (_queue.Lock)
        {
            // Credit is not urgent here: credit that is needed woke the writer, and then nothing else is ready.
            urgent = _queue.HasControlLocked;
            _ledger.WriteReleasesLocked(writer, MaxControlBytesPerRecord);
            // Control keeps to its budget so data keeps most of the record, except that one message may run past it
            // (a discharge refresh can be larger than the whole budget; it would never go out otherwise).
            while (_queue.TryDequeueControlLocked(writer.Written < MaxControlBytesPerRecord ? writer.Remaining : 0, out var message))
            {
                MessageCodec.Write(writer, message);
                if (message is TearDown)
                {
                    stop = true;
                    more = false;
                    return writer.Written;
                }
            }

            if (_queue.TakeDeferredLocked() is { } deferred)
            {
                urgent |= WriteChunkLocked(deferred, writer);
                _queue.MakeReadyLocked(deferred);
            }

            while (!_queue.IsDeferredLocked
                && writer.Remaining >= RecordLayout.MinUsefulRoom + MessageCodec.MaxDataHeaderSize
                && _queue.TryDequeueReadyLocked(out var flow))
            {
                urgent |= WriteChunkLocked(flow, writer);
                _queue.MakeReadyLocked(flow);
            }

            more = _queue.HasMoreLocked;
            return writer.Written;
        }
    }

    /// <summary>Writes the flow's next chunk; true when it is latency-sensitive (see <see cref="UrgentChunk"/>).</summary>
    private bool WriteChunkLocked(Flow flow, MemoryBufferWriter writer)
    {
        ref var send = ref flow.Send;
        var plan = send.PlanChunk(writer.Remaining - MessageCodec.MaxDataHeaderSize, _ledger.SharedSendCreditLocked, _remoteMtu,
            out var chunk, out var close);
        if (plan == ChunkPlan.Deferred)
        {
            _queue.DeferLocked(flow);
            return false;
        }

        if (plan == ChunkPlan.Nothing)
        {
            return false;
        }

        var flags = close ? DataFlags.Close : DataFlags.None;
        var span = writer.GetSpan(MessageCodec.MaxDataHeaderSize + chunk);
        var header = send.OpensFlow
            ? MessageCodec.WriteOpenFlowHeader(span, flow.Id, (ulong)flow.ReceiveWindow, flags, chunk)
            : MessageCodec.WriteDataHeader(span, flow.Id, flags, chunk);
        send.CopyPending(chunk, span[header..]);
        writer.Advance(header + chunk);
        var drawn = send.CommitChunk(chunk, close);
        if (drawn > 0)
        {
            _ledger.SpendSharedLocked(drawn);
        }

        if (chunk > 0)
        {
            _counters.Sent(chunk);
            if (!flow.IsSideChannel)
            {
                _host.OnDataSent();
            }
        }

        if (close && send.TakeResetAfterClose(flow.RemoteClosed, _queue.IsClosingLocked))
        {
            // Right after the Close flag, so the peer still sees the end of stream first; if the record is full, the
            // next one (control goes first there) carries it.
            var reset = new CloseFlow(flow.Id, ManagedConnection.DisposedReason);
            if (writer.Remaining >= MessageCodec.GetEncodedLength(reset))
            {
                MessageCodec.Write(writer, reset);
            }
            else
            {
                _queue.EnqueueControlLocked(reset);
            }
        }

        var finishedShortWrite = send.TryCompleteWrite() && chunk < UrgentChunk;
        if (close && flow.RemoteClosed)
        {
            // Both directions done: the flow leaves the table (lock-free) as soon as this record is built.
            _host.OnFlowFinished(flow);
        }

        return finishedShortWrite || close || chunk == 0;
    }
}
