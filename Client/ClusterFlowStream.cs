using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Client;

/// <summary>
/// A flow held by a silo, used from a client as a <see cref="Stream"/>. Reads pull the silo's chunks by grain
/// response streaming (the silo reads the remote only as this side consumes); writes are grain calls to the owning
/// silo, at most 64 KiB each. One reader and one writer at a time. While open it renews the flow's lease at a third
/// of <see cref="FlowHandle.LeaseTimeout"/>, so an idle flow stays and a vanished caller's flow is closed by the silo.
/// Every call presents the flow's capability, which only this stream holds. Disposing closes the flow on the silo.
/// A flow lives in the silo process that opened it: once that silo is gone (killed, stopped, cut off), every call
/// fails with <see cref="FlowErrorCode.Network"/> saying the flow is lost, and disposing lets it go quietly.
/// </summary>
/// <remarks>
/// Messages (Vanadium's <c>ReadMsg</c>/<c>WriteMsg</c>): <see cref="WriteMessageAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
/// sends one message in one grain call, and <see cref="ReadMessageAsync"/> returns exactly one message as the remote
/// wrote it (the silo hands over one message a chunk). As in the Transport, a remote that did not disable fragmentation
/// sends messages longer than its MTU in MTU-sized pieces. Stream reads and message reads share one position: a stream
/// read ignores boundaries and may stop inside a message; a message read after it returns the rest of that message
/// (as the Transport's message read returns the rest of a partly read frame); a stream read after message reads goes on
/// with the next message's bytes. Stream writes promise the remote no boundaries.
/// </remarks>
public sealed class ClusterFlowStream : Stream
{
    /// <summary>Largest write sent in one grain call.</summary>
    public const int MaxChunkSize = 64 * 1024;

    private readonly ISiloFlowGrain _silo;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _renewal;
    private IAsyncEnumerator<byte[]>? _reader;

    // A pull from the silo that a cancelled read left running: the next read takes its chunk, so no bytes are lost.
    private Task<bool>? _pendingMove;
    private byte[] _current = [];
    private int _offset;
    private bool _endOfStream;
    private int _disposed;

    private readonly FlowGrant _grant;

    internal ClusterFlowStream(ISiloFlowGrain silo, FlowHandle handle, Capability capability)
    {
        _silo = silo;
        Handle = handle;
        _grant = new FlowGrant(handle.FlowId, capability);
        _renewal = handle.LeaseTimeout > TimeSpan.Zero ? RenewLeaseAsync(handle.LeaseTimeout / 3, _closing.Token) : Task.CompletedTask;
    }

    /// <summary>Where the flow lives and who is on the other end.</summary>
    public FlowHandle Handle { get; }

    /// <summary>What this stream presents to the silo; for tests.</summary>
    internal FlowGrant Grant => _grant;

    /// <summary>The peer's blessing names that the silo's authorizer accepted in the handshake (verified, not claimed).</summary>
    public IReadOnlyList<string> PeerBlessingNames => Handle.RemoteBlessingNames;

    /// <summary>The peer's routing ID, as its handshake proved it to the silo.</summary>
    public RoutingId PeerRoutingId => Handle.RemoteEndpoint.RoutingId;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (_offset == _current.Length)
        {
            if (await NextMessageAsync(cancellationToken) is not { } next)
            {
                return 0;
            }

            _current = next;
            _offset = 0;
        }

        var count = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsMemory(_offset, count).CopyTo(buffer);
        _offset += count;
        return count;
    }

    /// <summary>
    /// Reads the next message: the rest of one a stream read stopped inside, else the next whole message as the remote
    /// wrote it. Null at end of stream.
    /// </summary>
    public async ValueTask<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_offset < _current.Length)
        {
            var rest = _offset == 0 ? _current : _current.AsSpan(_offset).ToArray();
            _current = [];
            _offset = 0;
            return rest;
        }

        return await NextMessageAsync(cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="message"/> as one message (the Transport's message write) in one grain call; returns the
    /// bytes written. At most <see cref="MaxChunkSize"/> bytes: a longer message is <see cref="FlowErrorCode.BadArg"/>.
    /// </summary>
    public async ValueTask<int> WriteMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (message.Length > MaxChunkSize)
        {
            throw TooLarge(message.Length);
        }

        try
        {
            return await _silo.WriteMessageAsync(_grant, message, cancellationToken);
        }
        catch (Exception e) when (ClusterFailover.IsFlowLost(e))
        {
            throw ClusterFailover.FlowLost(e, Handle.SiloKey, "the write");
        }
    }

    /// <summary>Writes <paramref name="parts"/> back to back as one message, like the Transport's <c>WriteMessageAsync</c>.</summary>
    public ValueTask<int> WriteMessageAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 1)
        {
            return WriteMessageAsync(parts[0], cancellationToken);
        }

        var total = 0L;
        foreach (var part in parts)
        {
            total += part.Length;
        }

        if (total > MaxChunkSize)
        {
            throw TooLarge(total);
        }

        var gathered = new byte[total];
        var offset = 0;
        foreach (var part in parts)
        {
            part.Span.CopyTo(gathered.AsSpan(offset));
            offset += part.Length;
        }

        return WriteMessageAsync(gathered, cancellationToken);
    }

    /// <summary>
    /// Makes the silo send each later message of this flow as exactly one frame (the Transport's <c>DisableFragmentation</c>),
    /// so the remote reads the same boundaries.
    /// </summary>
    public Task DisableFragmentationAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _silo.DisableFragmentationAsync(_grant);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private static FlowException TooLarge(long length) =>
        new(FlowErrorCode.BadArg, $"A message of {length} bytes is too large for one grain call (at most {MaxChunkSize}); write it as a stream.");

    /// <summary>The next message the silo hands over, or null at end of stream. A cancelled wait leaves the pull for the next read.</summary>
    private async ValueTask<byte[]?> NextMessageAsync(CancellationToken cancellationToken)
    {
        if (_endOfStream)
        {
            return null;
        }

        // Batches of 8 keep a response at 512 KiB at most; the silo's read-ahead bounds it anyway.
        _reader ??= _silo.ReadAsync(_grant).WithBatchSize(8).GetAsyncEnumerator(CancellationToken.None);
        _pendingMove ??= _reader.MoveNextAsync().AsTask();
        bool more;
        try
        {
            more = await _pendingMove.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (ClusterFailover.IsFlowLost(e))
        {
            _pendingMove = null;
            throw ClusterFailover.FlowLost(e, Handle.SiloKey, "the read");
        }

        _pendingMove = null;
        if (!more)
        {
            _endOfStream = true;
            return null;
        }

        return _reader.Current;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (!buffer.IsEmpty)
        {
            var chunk = buffer[..Math.Min(buffer.Length, MaxChunkSize)];
            // No copy here: the call serialises the chunk, and completes only once the silo's flow took the bytes.
            try
            {
                await _silo.WriteAsync(_grant, chunk, cancellationToken);
            }
            catch (Exception e) when (ClusterFailover.IsFlowLost(e))
            {
                throw ClusterFailover.FlowLost(e, Handle.SiloKey, "the write");
            }

            buffer = buffer[chunk.Length..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Closes the write side: the remote reads what was written, then end of stream. Reading goes on.</summary>
    public async Task CompleteWritesAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            await _silo.CloseWriteAsync(_grant, cancellationToken);
        }
        catch (Exception e) when (ClusterFailover.IsFlowLost(e))
        {
            throw ClusterFailover.FlowLost(e, Handle.SiloKey, "closing the write side");
        }
    }

    // Synchronous members block on the asynchronous ones: Stream requires them, and a grain call has no synchronous form.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync();
        await _renewal;
        _closing.Dispose();

        // Close on the silo first: that ends a pending long-poll of the reader, which disposing it would wait for.
        try
        {
            await _silo.CloseAsync(_grant);
        }
        catch (Exception e) when (ClusterFailover.IsFlowLost(e))
        {
            // The silo is gone and the flow with it: nothing is left to close.
        }

        if (_reader is not null)
        {
            try
            {
                await _reader.DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The silo forgot the enumeration with the flow; nothing is left to release.
            }
        }

        await base.DisposeAsync();
    }

    private async Task RenewLeaseAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    var gone = await _silo.RenewAsync([_grant]).WaitAsync(cancellationToken);
                    if (gone.Count > 0)
                    {
                        return; // Closed on the silo (by the remote, an error or an expired lease): reads and writes will say so.
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    // A silo that does not answer now may next time; one that is gone took the flow with it.
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _disposed == 0)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }
}
