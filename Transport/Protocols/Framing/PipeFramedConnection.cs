using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;

namespace FlowOrleans.Transport.Protocols.Framing;

/// <summary>
/// Frames a byte-stream transport: each frame is a 4-byte big-endian payload length, then the payload. Reads parse
/// frames in place in the input pipe's memory and writes build them in place in the output pipe's memory, so no
/// frame is copied here. Kept apart from socket code so any <see cref="IPipeTransport"/> (sockets, in-process pipes,
/// fault injectors) gets the same framing.
/// </summary>
internal sealed class PipeFramedConnection : IFramedConnection, IFrameReadLimit
{
    private const int PrefixSize = FramingOptions.LengthPrefixSize;

    private readonly IPipeTransport _transport;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly FramedConnectionFaults _faults;

    // Reader state: touched only by the single reader.
    private int _readLimit;
    private SequencePosition _heldFrameEnd;
    private bool _holdingFrame;

    // Writer state: touched only by the single writer, except the counters that PendingWriteBytes reads.
    private int _uncommittedLength = -1;
    private long _committedBytes;
    private long _flushedBytes;

    public PipeFramedConnection(IPipeTransport transport, string protocol, int maxFrameSize)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameSize);

        _transport = transport;
        _input = transport.Input;
        _output = transport.Output;
        Protocol = protocol;
        MaxFrameSize = maxFrameSize;
        _readLimit = maxFrameSize;
        _faults = new FramedConnectionFaults(protocol);
    }

    public string Protocol { get; }

    public EndPoint? LocalAddress => _transport.LocalAddress;

    public EndPoint? RemoteAddress => _transport.RemoteAddress;

    public int MaxFrameSize { get; }

    public int ReadLimit
    {
        get => _readLimit;
        set => _readLimit = Math.Clamp(value, 0, MaxFrameSize);
    }

    public long PendingWriteBytes
    {
        get
        {
            long handedOver = _transport.BytesSent ?? Volatile.Read(ref _flushedBytes);
            return Math.Max(0, Volatile.Read(ref _committedBytes) - handedOver);
        }
    }

    /// <summary>The transport underneath, for tests that check its loops end.</summary>
    internal IPipeTransport Transport => _transport;

    public ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        if (_faults.ReadBlocker is { } blocker)
        {
            return ValueTask.FromException<FrameReadResult>(blocker);
        }

        try
        {
            // The previous frame's memory is given back only now: the caller may use it until this call. Inside the
            // try: a read racing DisposeAsync finds the pipe completed, and must fail as a closed connection does.
            if (_holdingFrame)
            {
                _holdingFrame = false;
                _input.AdvanceTo(_heldFrameEnd);
            }

            // Loop synchronously while the pipe has data ready, so back-to-back frames cost no async machinery.
            while (true)
            {
                ValueTask<ReadResult> pending = _input.ReadAsync(cancellationToken);
                if (!pending.IsCompletedSuccessfully)
                {
                    return ReadFrameSlowAsync(pending, cancellationToken);
                }

                if (TryTakeFrame(pending.Result, out FrameReadResult frame))
                {
                    return new ValueTask<FrameReadResult>(frame);
                }
            }
        }
        catch (Exception e)
        {
            return ValueTask.FromException<FrameReadResult>(_faults.ReadFailure(e, cancellationToken));
        }
    }

    public Memory<byte> GetFrameBuffer(int length)
    {
        _faults.CheckFrameLength(length, MaxFrameSize);
        ThrowIfWriteBlocked();
        Memory<byte> memory;
        try
        {
            memory = _output.GetMemory(PrefixSize + length);
        }
        catch (Exception e)
        {
            throw _faults.WriteFailure(e, CancellationToken.None);
        }

        // The prefix goes into the same pipe memory as the payload, so a frame is one contiguous write.
        BinaryPrimitives.WriteInt32BigEndian(memory.Span, length);
        _uncommittedLength = length;
        return memory.Slice(PrefixSize, length);
    }

    public void CommitFrame()
    {
        if (_uncommittedLength < 0)
        {
            throw FramedConnectionFaults.CommitWithoutFrame();
        }

        ThrowIfWriteBlocked();
        int frameBytes = PrefixSize + _uncommittedLength;
        _uncommittedLength = -1;
        try
        {
            _output.Advance(frameBytes);
        }
        catch (Exception e)
        {
            throw _faults.WriteFailure(e, CancellationToken.None);
        }

        Volatile.Write(ref _committedBytes, _committedBytes + frameBytes);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_faults.WriteBlocker is { } blocker)
        {
            return ValueTask.FromException(blocker);
        }

        try
        {
            ValueTask<FlushResult> pending = _output.FlushAsync(cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                OnFlushed(pending.Result);
                return default;
            }

            return FlushSlowAsync(pending, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(_faults.WriteFailure(e, cancellationToken));
        }
    }

    public void Abort(Exception? reason = null)
    {
        reason ??= _faults.AbortedWithoutReason();
        if (!_faults.TryAbort(reason))
        {
            return;
        }

        // Wake whatever is pending; the reader and writer then see the abort.
        _input.CancelPendingRead();
        _output.CancelPendingFlush();
        _transport.Abort(reason);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_faults.TryDispose())
        {
            return;
        }

        // A misbehaving caller might still have a read or flush pending; end it before completing the pipes.
        _input.CancelPendingRead();
        _output.CancelPendingFlush();
        _input.Complete();
        _output.Complete();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FrameReadResult> ReadFrameSlowAsync(ValueTask<ReadResult> pending, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                ReadResult result = await pending.ConfigureAwait(false);
                if (TryTakeFrame(result, out FrameReadResult frame))
                {
                    return frame;
                }

                pending = _input.ReadAsync(cancellationToken);
            }
        }
        catch (Exception e)
        {
            throw _faults.ReadFailure(e, cancellationToken);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushSlowAsync(ValueTask<FlushResult> pending, CancellationToken cancellationToken)
    {
        try
        {
            OnFlushed(await pending.ConfigureAwait(false));
        }
        catch (Exception e)
        {
            throw _faults.WriteFailure(e, cancellationToken);
        }
    }

    /// <summary>
    /// Takes one frame from the buffer if it is all there. Otherwise marks the buffer examined so the next read
    /// waits for more bytes, and returns false. Throws on a bad prefix, a truncated frame or a cancelled read.
    /// </summary>
    private bool TryTakeFrame(in ReadResult result, out FrameReadResult frame)
    {
        ReadOnlySequence<byte> buffer = result.Buffer;
        if (result.IsCanceled)
        {
            _input.AdvanceTo(buffer.Start);
            throw CanceledError(isRead: true);
        }

        if (buffer.Length >= PrefixSize)
        {
            int length = ReadPrefix(buffer);

            // Checked as soon as the prefix is in, so an oversized frame is rejected before any of it is buffered.
            if ((uint)length > (uint)_readLimit)
            {
                _input.AdvanceTo(buffer.Start);
                throw _faults.ReadFault(new FlowException(
                    FlowErrorCode.BadArg,
                    string.Create(CultureInfo.InvariantCulture, $"Received a frame length of {(uint)length} bytes, above the maximum of {_readLimit}, on this {Protocol} connection.")));
            }

            if (buffer.Length - PrefixSize >= length)
            {
                ReadOnlySequence<byte> payload = buffer.Slice(PrefixSize, length);
                _heldFrameEnd = payload.End;
                _holdingFrame = true;
                frame = new FrameReadResult(payload, isCompleted: false);
                return true;
            }
        }

        if (result.IsCompleted)
        {
            bool clean = buffer.IsEmpty;
            _input.AdvanceTo(buffer.End);
            if (_transport.ReceiveError is { } receiveError)
            {
                throw _faults.ReadFault(receiveError);
            }

            if (clean)
            {
                frame = FrameReadResult.Completed;
                return true;
            }

            throw _faults.ReadFault(new FlowException(
                FlowErrorCode.Network,
                string.Create(CultureInfo.InvariantCulture, $"The {Protocol} connection ended inside a frame ({buffer.Length} bytes of it received).")));
        }

        _input.AdvanceTo(buffer.Start, buffer.End);
        frame = default;
        return false;
    }

    private static int ReadPrefix(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= PrefixSize)
        {
            return BinaryPrimitives.ReadInt32BigEndian(first);
        }

        Span<byte> prefix = stackalloc byte[PrefixSize];
        buffer.Slice(0, PrefixSize).CopyTo(prefix);
        return BinaryPrimitives.ReadInt32BigEndian(prefix);
    }

    private void OnFlushed(FlushResult result)
    {
        if (result.IsCanceled)
        {
            throw CanceledError(isRead: false);
        }

        if (result.IsCompleted)
        {
            throw _faults.WriteFault(new FlowException(FlowErrorCode.Network, $"The {Protocol} connection no longer sends: its transport has closed."));
        }

        Volatile.Write(ref _flushedBytes, _committedBytes);
    }

    private void ThrowIfWriteBlocked()
    {
        if (_faults.WriteBlocker is { } blocker)
        {
            throw blocker;
        }
    }

    // A pending operation was cancelled without the caller's token: either we aborted, or the transport cut the
    // link under us (an in-process peer aborting), which for this side is a connection reset.
    private FlowException CanceledError(bool isRead)
    {
        if (_faults.IsStopped)
        {
            return _faults.Aborted();
        }

        var reset = new FlowException(FlowErrorCode.Network, $"The {Protocol} connection was reset by its peer.");
        return isRead ? _faults.ReadFault(reset) : _faults.WriteFault(reset);
    }
}
