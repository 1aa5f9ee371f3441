using System.Buffers;
using System.Net;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Proxy;

/// <summary>
/// An <see cref="IFramedConnection"/> over a flow, so a whole <see cref="ManagedConnection"/> (handshake, records,
/// multiplexing) can run end to end inside one flow through a proxy.
/// </summary>
/// <remarks>
/// The flow must have fragmentation disabled, so each flow message arrives with the boundaries it was written with.
/// A frame travels as one or more flow messages ("pieces"), each led by one byte: <see cref="LastPiece"/> or
/// <see cref="MorePieces"/>. Pieces exist because a record may be slightly larger (64 KiB + 1 KiB + tag) than the
/// largest unfragmented flow message (64 KiB); most frames are a single piece. A proxy forwards the messages
/// verbatim, so it never needs to reassemble.
/// </remarks>
internal sealed class FlowFramedConnection : IFramedConnection, IFrameReadLimit
{
    /// <summary>Leading byte of the final (often only) piece of a frame.</summary>
    internal const byte LastPiece = 0;

    /// <summary>Leading byte of a piece that more pieces of the same frame follow.</summary>
    internal const byte MorePieces = 1;

    /// <summary>The largest piece: an unfragmented flow message, leading byte included.</summary>
    internal const int MaxPiece = RecordLayout.MaxPayload;

    private readonly IFlow _flow;
    private readonly FramedConnectionFaults _faults;
    private readonly CancellationTokenSource _aborted = new();
    private readonly List<(byte[] Buffer, int Length)> _committed = [];
    private readonly ReadOnlyMemory<byte>[] _piece = new ReadOnlyMemory<byte>[1];
    private byte[]? _uncommitted;
    private int _uncommittedLength;
    private byte[]? _assembly;
    private int _readLimit = RecordLayout.MaxFrame;
    private long _pendingBytes;

    public FlowFramedConnection(IFlow flow, string protocol)
    {
        _flow = flow;
        Protocol = protocol;
        _faults = new FramedConnectionFaults(protocol);
        _flow.DisableFragmentation();
    }

    /// <summary>The flow the frames travel on.</summary>
    public IFlow Flow => _flow;

    public string Protocol { get; }

    public EndPoint? LocalAddress => null;

    /// <summary>The address the flow's own connection reaches: the proxy's, as Vanadium reports for proxied conns.</summary>
    public EndPoint? RemoteAddress => _flow.RemoteAddress;

    public int MaxFrameSize => RecordLayout.MaxFrame;

    public int ReadLimit
    {
        get => _readLimit;
        set => _readLimit = Math.Clamp(value, 0, MaxFrameSize);
    }

    public long PendingWriteBytes => Volatile.Read(ref _pendingBytes);

    public async ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        if (_faults.ReadBlocker is { } blocker)
        {
            throw blocker;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _aborted.Token);
        var assembled = 0;
        try
        {
            while (true)
            {
                var message = await _flow.ReadMessageAsync(linked.Token).ConfigureAwait(false);
                if (message is null)
                {
                    return assembled == 0
                        ? FrameReadResult.Completed
                        : throw new FlowException(FlowErrorCode.Network, "The flow ended inside a frame.");
                }

                if (message.Length == 0 || message[0] > MorePieces)
                {
                    throw new FlowException(FlowErrorCode.BadArg, "A framed flow carried a message that is not a frame piece.");
                }

                var piece = message.Length - 1;
                if (assembled + piece > _readLimit)
                {
                    throw new FlowException(FlowErrorCode.BadArg, $"A frame over a flow is larger than {_readLimit} bytes.");
                }

                if (message[0] == LastPiece && assembled == 0)
                {
                    // The common case: the frame is one piece, served from the message itself.
                    return new FrameReadResult(new ReadOnlySequence<byte>(message, 1, piece), isCompleted: false);
                }

                _assembly ??= new byte[MaxFrameSize];
                message.AsSpan(1).CopyTo(_assembly.AsSpan(assembled));
                assembled += piece;
                if (message[0] == LastPiece)
                {
                    return new FrameReadResult(new ReadOnlySequence<byte>(_assembly, 0, assembled), isCompleted: false);
                }
            }
        }
        catch (OperationCanceledException e)
        {
            throw _faults.ReadFailure(e, cancellationToken);
        }
    }

    public Memory<byte> GetFrameBuffer(int length)
    {
        _faults.CheckFrameLength(length, MaxFrameSize);
        if (_uncommitted is not null)
        {
            ArrayPool<byte>.Shared.Return(_uncommitted);
        }

        // One spare byte in front for the first piece's leading byte, so the payload is sent without a copy.
        _uncommitted = ArrayPool<byte>.Shared.Rent(length + 1);
        _uncommittedLength = length;
        return _uncommitted.AsMemory(1, length);
    }

    public void CommitFrame()
    {
        var buffer = _uncommitted ?? throw FramedConnectionFaults.CommitWithoutFrame();
        _uncommitted = null;
        _committed.Add((buffer, _uncommittedLength));
        Interlocked.Add(ref _pendingBytes, _uncommittedLength);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_faults.WriteBlocker is { } blocker)
        {
            throw blocker;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _aborted.Token);
        try
        {
            var sent = 0;
            try
            {
                for (; sent < _committed.Count; sent++)
                {
                    var (buffer, length) = _committed[sent];
                    await SendFrameAsync(buffer, length, linked.Token).ConfigureAwait(false);
                    Interlocked.Add(ref _pendingBytes, -length);
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            finally
            {
                _committed.RemoveRange(0, sent);
            }
        }
        catch (OperationCanceledException e)
        {
            throw _faults.WriteFailure(e, cancellationToken);
        }
    }

    /// <summary>
    /// Sends <paramref name="buffer"/>[1..length] as pieces. Each piece's leading byte overwrites the byte just before
    /// it, which the previous piece already handed to the flow (a flow write completes once its bytes are copied).
    /// </summary>
    private async ValueTask SendFrameAsync(byte[] buffer, int length, CancellationToken cancellationToken)
    {
        var offset = 0;
        var remaining = length;
        while (true)
        {
            var piece = Math.Min(remaining, MaxPiece - 1);
            var last = piece == remaining;
            buffer[offset] = last ? LastPiece : MorePieces;
            _piece[0] = buffer.AsMemory(offset, piece + 1);
            await _flow.WriteMessageAsync(_piece, cancellationToken).ConfigureAwait(false);
            if (last)
            {
                return;
            }

            offset += piece;
            remaining -= piece;
        }
    }

    public void Abort(Exception? reason = null)
    {
        if (!_faults.TryAbort(reason ?? _faults.AbortedWithoutReason()))
        {
            return;
        }

        _aborted.Cancel();

        // A deadline in the past aborts the flow at once: both halves fail and the peer is told.
        _flow.SetDeadline(DateTimeOffset.UnixEpoch);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_faults.TryDispose())
        {
            return;
        }

        await _flow.DisposeAsync().ConfigureAwait(false);
        foreach (var (buffer, _) in _committed)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _committed.Clear();
        if (_uncommitted is not null)
        {
            ArrayPool<byte>.Shared.Return(_uncommitted);
            _uncommitted = null;
        }
    }
}
