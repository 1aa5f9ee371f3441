using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Threading;

namespace FlowOrleans.Transport.Protocols.Faults;

/// <summary>
/// The byte stream of one <see cref="FaultProtocol"/> connection: what the framing writes is sent over the wrapped
/// link as frames holding pieces of the stream, with the plan's faults applied on the way out; what arrives is put
/// back together, with the plan's read stall, for the framing to read. Two loops (pumps) do the moving; they end when
/// the link ends or the transport is disposed.
/// </summary>
internal sealed class FaultTransport : IPipeTransport
{
    private readonly IFramedConnection _link;
    private readonly FaultPlan _plan;
    private readonly TimeProvider _time;
    private readonly TimeSpan _drainTimeout;
    private readonly FaultCounters _counters;
    private readonly Pipe _outgoing;
    private readonly Pipe _incoming;
    private readonly CancellationTokenSource _stop = new();
    private readonly int _largestPiece;
#pragma warning disable CA5394 // Piece sizes only need to be varied and replayable, not unpredictable.
    private readonly Random _pieces;
#pragma warning restore CA5394
    private Task _sendPump = Task.CompletedTask;
    private Task _receivePump = Task.CompletedTask;
    private long _sent;
    private long _received;
    private bool _stalled;
    private volatile string? _broken;
    private FlowException? _receiveError;
    private int _disposed;

    public FaultTransport(IFramedConnection link, FaultPlan plan, FramingOptions options, TimeProvider time, FaultCounters counters)
    {
        _link = link;
        _plan = plan;
        _time = time;
        _drainTimeout = options.DrainTimeout;
        _counters = counters;
        _largestPiece = Math.Min(plan.MaxPieceBytes ?? int.MaxValue, link.MaxFrameSize);
#pragma warning disable CA5394
        _pieces = new Random(plan.Seed);
#pragma warning restore CA5394
        _outgoing = new Pipe(PipeOptionsFor(options.EffectiveOutputPauseThreshold, options.EffectiveOutputResumeThreshold, options));
        _incoming = new Pipe(PipeOptionsFor(options.EffectiveInputPauseThreshold, options.EffectiveInputResumeThreshold, options));
        counters.PumpStarted();
        counters.PumpStarted();
    }

    public PipeReader Input => _incoming.Reader;

    public PipeWriter Output => _outgoing.Writer;

    public EndPoint? LocalAddress => _link.LocalAddress;

    public EndPoint? RemoteAddress => _link.RemoteAddress;

    public long? BytesSent => null;

    public FlowException? ReceiveError => Volatile.Read(ref _receiveError);

    public void Start()
    {
        _sendPump = Task.Run(SendLoopAsync);
        _receivePump = Task.Run(ReceiveLoopAsync);
    }

    public void Abort(Exception reason)
    {
        _incoming.Reader.CancelPendingRead();
        _outgoing.Writer.CancelPendingFlush();
        _link.Abort(reason);
        _stop.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The framing completed its ends first: give the send loop a moment to put the last bytes on the link.
        await _sendPump.CompletesWithinAsync(_drainTimeout, _time).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _link.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_sendPump, _receivePump).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _outgoing.Reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var broken = await SendAsync(buffer).ConfigureAwait(false);
                _outgoing.Reader.AdvanceTo(buffer.End);
                if (broken)
                {
                    // Writes from here on report a transport that no longer sends.
                    _outgoing.Reader.Complete(new FlowException(FlowErrorCode.Network, _broken!));
                    return;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // The framing stopped writing (it is being disposed): the link closes behind its last byte.
            await _link.DisposeAsync().ConfigureAwait(false);
            _outgoing.Reader.Complete();
        }
        catch (Exception e)
        {
            _outgoing.Reader.Complete(Failure(e));
        }
        finally
        {
            _counters.PumpStopped();
        }
    }

    /// <summary>Sends one buffer in pieces, applying the plan; true when the link was cut or reset on the way.</summary>
    private async ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            if (Limit(_plan.CutAfterBytes) == 0)
            {
                await BreakAsync(reset: false).ConfigureAwait(false);
                return true;
            }

            if (Limit(_plan.ResetAfterBytes) == 0)
            {
                await BreakAsync(reset: true).ConfigureAwait(false);
                return true;
            }

            if (buffer.IsEmpty)
            {
                await _link.FlushAsync(_stop.Token).ConfigureAwait(false);
                return false;
            }

            var piece = (int)Math.Min(Math.Min(buffer.Length, NextPieceSize()), Math.Min(Limit(_plan.CutAfterBytes), Limit(_plan.ResetAfterBytes)));
            if (_plan.PieceDelay > TimeSpan.Zero)
            {
                await _link.FlushAsync(_stop.Token).ConfigureAwait(false);
                await Task.Delay(_plan.PieceDelay, _time, _stop.Token).ConfigureAwait(false);
            }

            var frame = _link.GetFrameBuffer(piece);
            buffer.Slice(0, piece).CopyTo(frame.Span);
            if (_plan.FlipAtByte is { } flip && flip >= _sent && flip < _sent + piece)
            {
                frame.Span[(int)(flip - _sent)] ^= _plan.FlipMask;
            }

            _link.CommitFrame();
            _sent += piece;
            buffer = buffer.Slice(piece);
            if (_plan.MaxPieceBytes is not null)
            {
                // Each piece its own write underneath, so the far side's reads see it alone.
                await _link.FlushAsync(_stop.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Bytes that may still be sent before a byte limit; long.MaxValue without one.</summary>
    private long Limit(long? limit) => limit is { } at ? Math.Max(0, at - _sent) : long.MaxValue;

    private int NextPieceSize() =>
#pragma warning disable CA5394
        _plan.MaxPieceBytes is null ? _largestPiece : _pieces.Next(1, _largestPiece + 1);
#pragma warning restore CA5394

    private async ValueTask BreakAsync(bool reset)
    {
        if (reset)
        {
            _broken = $"The link was reset after {_sent} bytes (injected fault).";
            _link.Abort(new FlowException(FlowErrorCode.Network, _broken));
            return;
        }

        _broken = $"The link was cut after {_sent} bytes (injected fault).";
        await _link.FlushAsync(_stop.Token).ConfigureAwait(false);
        await _link.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await _link.ReadFrameAsync(_stop.Token).ConfigureAwait(false);
                if (frame.IsCompleted)
                {
                    _incoming.Writer.Complete();
                    return;
                }

                var payload = frame.Payload;
                if (!_stalled && _plan.StallReadsAfterBytes is { } at && _received + payload.Length > at)
                {
                    var before = (int)Math.Max(0, at - _received);
                    if (!await DeliverAsync(payload.Slice(0, before)).ConfigureAwait(false))
                    {
                        return;
                    }

                    // Counted only once the stall's timer exists: a test that sees the stall may at once move a fake
                    // clock past it, and a timer created after that would never fire.
                    _stalled = true;
                    var stall = Task.Delay(_plan.StallFor ?? Timeout.InfiniteTimeSpan, _time, _stop.Token);
                    _counters.StallStarted();
                    try
                    {
                        await stall.ConfigureAwait(false);
                    }
                    finally
                    {
                        _counters.StallEnded();
                    }

                    payload = payload.Slice(before);
                }

                if (!await DeliverAsync(payload).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            var failure = Failure(e);
            if (_broken is null)
            {
                // The link failed under us (the peer reset it): what arrived before is read first, as on a socket.
                Volatile.Write(ref _receiveError, failure);
                _incoming.Writer.Complete();
            }
            else
            {
                _incoming.Writer.Complete(failure);
            }
        }
        finally
        {
            _counters.PumpStopped();
        }
    }

    /// <summary>Hands received bytes to the framing; false when it no longer reads.</summary>
    private async ValueTask<bool> DeliverAsync(ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            _incoming.Writer.Write(segment.Span);
        }

        _received += bytes.Length;
        var flushed = await _incoming.Writer.FlushAsync(_stop.Token).ConfigureAwait(false);
        if (flushed.IsCompleted)
        {
            _incoming.Writer.Complete();
            return false;
        }

        return true;
    }

    /// <summary>What the framing is told when the link failed: the injected cut or reset, or the link's own failure.</summary>
    private FlowException Failure(Exception error) => _broken is { } broken
        ? new FlowException(FlowErrorCode.Network, broken, error)
        : error as FlowException is { Code: FlowErrorCode.Network } network
            ? network
            : new FlowException(FlowErrorCode.Network, "The fault protocol's link failed: " + error.Message, error);

    private static PipeOptions PipeOptionsFor(long pause, long resume, FramingOptions options) => new(
        pauseWriterThreshold: pause,
        resumeWriterThreshold: resume,
        readerScheduler: PipeScheduler.ThreadPool,
        writerScheduler: PipeScheduler.ThreadPool,
        minimumSegmentSize: Math.Min(options.MinimumSegmentSize, 64 * 1024),
        useSynchronizationContext: false);
}
