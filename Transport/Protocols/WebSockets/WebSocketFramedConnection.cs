using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.WebSockets;

/// <summary>
/// Frames carried as WebSocket messages: each frame is one binary message. Messages are reassembled into a pooled
/// buffer that never grows past the frame limit. Committed frames are sent on flush through a corked stream, so a
/// batch still leaves the socket in one send. Cancelling a read or flush aborts the WebSocket (its own rule).
/// </summary>
internal sealed class WebSocketFramedConnection : IFramedConnection, IFrameReadLimit
{
    private const int InitialBufferSize = 4096;

    // Buffers above this are handed back to the pool after use, so idle connections keep only a small one.
    private const int RetainedBufferSize = 64 * 1024;

    private readonly WebSocket _webSocket;
    private readonly IPipeTransport _transport;
    private readonly TransportStream _stream;
    private readonly TimeSpan _closeTimeout;
    private readonly FramedConnectionFaults _faults;

    // Reader state: touched only by the single reader.
    private int _readLimit;
    private byte[] _readBuffer;
    private bool _reading;
    private bool _readCompleted;

    // Writer state: touched only by the single writer, except the counter PendingWriteBytes reads.
    private byte[] _writeBuffer;
    private int _writeLength;
    private int _uncommittedLength = -1;
    private readonly List<int> _frameLengths = [];
    private bool _writing;
    private long _unsentPayloadBytes;

    public WebSocketFramedConnection(
        WebSocket webSocket,
        IPipeTransport transport,
        TransportStream stream,
        string protocol,
        int maxFrameSize,
        TimeSpan closeTimeout)
    {
        _webSocket = webSocket;
        _transport = transport;
        _stream = stream;
        _closeTimeout = closeTimeout;
        Protocol = protocol;
        MaxFrameSize = maxFrameSize;
        _readLimit = maxFrameSize;
        _faults = new FramedConnectionFaults(protocol);
        _readBuffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        _writeBuffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
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

    public long PendingWriteBytes =>
        Volatile.Read(ref _unsentPayloadBytes) + Math.Max(0, _stream.BytesWritten - (_transport.BytesSent ?? _stream.BytesWritten));

    /// <summary>The transport underneath, for tests that check its loops end.</summary>
    internal IPipeTransport Transport => _transport;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        if (_faults.ReadBlocker is { } blocker)
        {
            throw blocker;
        }

        if (_readCompleted)
        {
            return FrameReadResult.Completed;
        }

        // The previous payload is released by this call, so a large buffer can go back to the pool now.
        ReleaseIfLarge(ref _readBuffer);
        _reading = true;
        try
        {
            int length = 0;
            while (true)
            {
                // Receiving one byte beyond the limit is how an oversized message is noticed without buffering it.
                int capacity = Math.Min(_readBuffer.Length, _readLimit + 1);
                ValueWebSocketReceiveResult result = await _webSocket
                    .ReceiveAsync(_readBuffer.AsMemory(length, capacity - length), cancellationToken)
                    .ConfigureAwait(false);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (length != 0)
                    {
                        throw _faults.ReadFault(new FlowException(FlowErrorCode.Network, $"The {Protocol} connection was closed inside a message."));
                    }

                    _readCompleted = true;
                    return FrameReadResult.Completed;
                }

                if (result.MessageType != WebSocketMessageType.Binary)
                {
                    throw _faults.ReadFault(new FlowException(FlowErrorCode.BadArg, $"Received a {result.MessageType} WebSocket message on this {Protocol} connection; frames are binary."));
                }

                length += result.Count;
                if (length > _readLimit)
                {
                    throw _faults.ReadFault(new FlowException(
                        FlowErrorCode.BadArg,
                        string.Create(CultureInfo.InvariantCulture, $"Received a message above the maximum frame size of {_readLimit} bytes on this {Protocol} connection.")));
                }

                if (result.EndOfMessage)
                {
                    return new FrameReadResult(new ReadOnlySequence<byte>(_readBuffer, 0, length), isCompleted: false);
                }

                if (length == _readBuffer.Length)
                {
                    Grow(ref _readBuffer, length, Math.Min((long)_readBuffer.Length * 2, _readLimit + 1));
                }
            }
        }
        catch (Exception e) when (e is not FlowException)
        {
            // The WebSocket aborts itself when an operation is cancelled, so a cancelled read ends reading too.
            throw _faults.ReadFailure(e, cancellationToken, cancellationEndsDirection: true);
        }
        finally
        {
            _reading = false;
        }
    }

    public Memory<byte> GetFrameBuffer(int length)
    {
        _faults.CheckFrameLength(length, MaxFrameSize);
        if (_faults.WriteBlocker is { } blocker)
        {
            throw blocker;
        }

        if (_writeBuffer.Length - _writeLength < length)
        {
            Grow(ref _writeBuffer, _writeLength, Math.Max((long)_writeBuffer.Length * 2, (long)_writeLength + length));
        }

        _uncommittedLength = length;
        return _writeBuffer.AsMemory(_writeLength, length);
    }

    public void CommitFrame()
    {
        if (_uncommittedLength < 0)
        {
            throw FramedConnectionFaults.CommitWithoutFrame();
        }

        if (_faults.WriteBlocker is { } blocker)
        {
            throw blocker;
        }

        _frameLengths.Add(_uncommittedLength);
        _writeLength += _uncommittedLength;
        Volatile.Write(ref _unsentPayloadBytes, _unsentPayloadBytes + _uncommittedLength);
        _uncommittedLength = -1;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_faults.WriteBlocker is { } blocker)
        {
            throw blocker;
        }

        if (_frameLengths.Count == 0)
        {
            return;
        }

        _writing = true;
        try
        {
            // All but the last message only buffer; the last one's write flushes the whole batch in one send.
            _stream.Corked = true;
            int offset = 0;
            for (int i = 0; i < _frameLengths.Count; i++)
            {
                int length = _frameLengths[i];
                if (i == _frameLengths.Count - 1)
                {
                    _stream.Corked = false;
                }

                await _webSocket
                    .SendAsync(_writeBuffer.AsMemory(offset, length), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken)
                    .ConfigureAwait(false);
                offset += length;
                Volatile.Write(ref _unsentPayloadBytes, _unsentPayloadBytes - length);
            }
        }
        catch (Exception e) when (e is not FlowException)
        {
            throw _faults.WriteFailure(e, cancellationToken, cancellationEndsDirection: true);
        }
        finally
        {
            _stream.Corked = false;
            _frameLengths.Clear();
            _writeLength = 0;
            _uncommittedLength = -1;
            Volatile.Write(ref _unsentPayloadBytes, 0);
            _writing = false;
            ReleaseIfLarge(ref _writeBuffer);
        }
    }

    public void Abort(Exception? reason = null)
    {
        reason ??= _faults.AbortedWithoutReason();
        if (!_faults.TryAbort(reason))
        {
            return;
        }

        _webSocket.Abort();
        _transport.Abort(reason);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_faults.TryDispose())
        {
            return;
        }

        // Say goodbye properly when the socket still works, so the peer reads a clean end; never wait long for it.
        if (!_faults.IsAborted && _webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(_closeTimeout);
            try
            {
                _stream.Corked = false;
                await _webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or FlowException)
            {
                // The peer is gone or not reading; closing the transport below is all that is left.
            }
        }

        _webSocket.Dispose();
        await _transport.DisposeAsync().ConfigureAwait(false);

        // A read or flush still in flight may yet write into its buffer; leave that one to the garbage collector.
        if (!_reading)
        {
            ArrayPool<byte>.Shared.Return(_readBuffer);
        }

        if (!_writing)
        {
            ArrayPool<byte>.Shared.Return(_writeBuffer);
        }

        _readBuffer = [];
        _writeBuffer = [];
    }

    private static void Grow(ref byte[] buffer, int keep, long size)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent((int)size);
        buffer.AsSpan(0, keep).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = larger;
    }

    private static void ReleaseIfLarge(ref byte[] buffer)
    {
        if (buffer.Length > RetainedBufferSize)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        }
    }
}
