using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Pushes <see cref="Payload"/> in 64 KiB writes from one end of a flow to the other until told to stop, then closes
/// the writing end's write side; the reading end reads to end of stream (a read of 0), comparing every byte with
/// what was sent at that position. The transfer is over when the reader has seen end of stream, so everything
/// written was delivered, checked and counted. Buffers are allocated here, before a scenario starts measuring, so
/// the allocation metric shows only what the system itself allocates.
/// </summary>
internal sealed class OneWayTransfer(FlowEnd writer, FlowEnd reader)
{
    public const int WriteSize = Payload.MaxSlice;

    // Enough bytes that the transfer is past its first window of credit.
    private const long FlowingThreshold = 4L * 1024 * 1024;

    private readonly byte[] _readBuffer = new byte[WriteSize];
    private readonly TaskCompletionSource _flowing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;
    private long _received;

    /// <summary>Bytes the reading end has received (and checked) so far.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Completes once the first few MiB have arrived.</summary>
    public Task Flowing => _flowing.Task;

    public Task RunAsync(Func<bool> shouldStop, CancellationToken cancellationToken) => Task.WhenAll(
        reader.DisposeIfFailsAsync(WriteAsync(shouldStop, cancellationToken)),
        writer.DisposeIfFailsAsync(ReadAsync(cancellationToken)));

    /// <summary>After <see cref="RunAsync"/>: throws unless the reader received exactly what the writer wrote.</summary>
    public void CheckComplete()
    {
        if (_received != _written)
        {
            throw new InvalidDataException($"The writer wrote {_written} bytes, the reader received {_received} before end of stream.");
        }
    }

    private async Task WriteAsync(Func<bool> shouldStop, CancellationToken cancellationToken)
    {
        var stream = writer.Stream;
        long written = 0;
        while (!shouldStop())
        {
            await stream.WriteAsync(Payload.At(written, WriteSize), cancellationToken);
            written += WriteSize;
        }

        _written = written;
        await writer.CloseWriteAsync(cancellationToken);
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var stream = reader.Stream;
        long received = 0;
        while (true)
        {
            var read = await stream.ReadAsync(_readBuffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            Payload.Check(received, _readBuffer.AsSpan(0, read));
            received += read;
            Volatile.Write(ref _received, received);
            if (received >= FlowingThreshold)
            {
                _flowing.TrySetResult();
            }
        }

        _flowing.TrySetResult();
    }
}
