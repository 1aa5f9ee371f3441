using System.Buffers;
using System.IO.Pipelines;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.WebSockets;

/// <summary>
/// A <see cref="Stream"/> over a pipe transport, for the WebSocket implementations that only speak streams. Writes
/// flush at once, except while <see cref="Corked"/>: then they only buffer, so a batch of WebSocket messages leaves
/// in one send when the last one is written uncorked. Disposing it leaves the transport alone: the connection owns it.
/// </summary>
internal sealed class TransportStream(IPipeTransport transport) : Stream
{
    private readonly PipeReader _input = transport.Input;
    private readonly PipeWriter _output = transport.Output;
    private long _bytesWritten;
    private volatile bool _corked;

    /// <summary>While true, writes and flushes only buffer. The WebSocket serializes writes, so this needs no lock.</summary>
    public bool Corked
    {
        get => _corked;
        set => _corked = value;
    }

    /// <summary>Bytes written into the transport so far, for the connection's count of unsent bytes.</summary>
    public long BytesWritten => Volatile.Read(ref _bytesWritten);

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
        ReadResult result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var available = result.Buffer;
        if (result.IsCanceled)
        {
            _input.AdvanceTo(available.Start);
            throw new IOException("The connection was aborted.");
        }

        // A zero-byte read only waits for data, leaving it all in place.
        int count = (int)Math.Min(buffer.Length, available.Length);
        available.Slice(0, count).CopyTo(buffer.Span);
        _input.AdvanceTo(available.GetPosition(count));
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_corked)
        {
            _output.Write(buffer.Span);
            Volatile.Write(ref _bytesWritten, _bytesWritten + buffer.Length);
            return default;
        }

        return WriteAndFlushAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _corked ? Task.CompletedTask : FlushOutputAsync(cancellationToken).AsTask();

    // Synchronous I/O would block a thread on the network; the WebSocket code paths used here are all asynchronous.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush() => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async ValueTask WriteAndFlushAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        _output.Write(buffer.Span);
        Volatile.Write(ref _bytesWritten, _bytesWritten + buffer.Length);
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        FlushResult result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new IOException("The connection no longer sends.");
        }
    }
}
