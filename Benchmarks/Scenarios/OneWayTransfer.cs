namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Pushes 64 KiB writes from one end of a flow to the other until told to stop, and drains them on the other end.
/// The writer publishes the final byte count before its last write, so the reader knows when it has everything
/// without needing a half-close, which each system spells differently. Buffers are allocated here, before a scenario
/// starts measuring, so the allocation metric shows only what the system itself allocates.
/// </summary>
internal sealed class OneWayTransfer(Stream writer, Stream reader)
{
    public const int WriteSize = 64 * 1024;

    // Enough bytes that the transfer is past its first window of credit.
    private const long FlowingThreshold = 4L * 1024 * 1024;

    private readonly byte[] _writeBuffer = CreateWriteBuffer();
    private readonly byte[] _readBuffer = new byte[WriteSize];
    private readonly TaskCompletionSource _flowing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _total = long.MaxValue;
    private long _received;

    /// <summary>Bytes the reading end has received so far.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Completes once the first few MiB have arrived.</summary>
    public Task Flowing => _flowing.Task;

    public Task RunAsync(Func<bool> shouldStop, CancellationToken cancellationToken) =>
        Task.WhenAll(WriteAsync(shouldStop, cancellationToken), ReadAsync(cancellationToken));

    private async Task WriteAsync(Func<bool> shouldStop, CancellationToken cancellationToken)
    {
        long written = 0;
        bool last;
        do
        {
            last = shouldStop();
            if (last)
            {
                Volatile.Write(ref _total, written + WriteSize);
            }

            await writer.WriteAsync(_writeBuffer, cancellationToken);
            written += WriteSize;
        }
        while (!last);

        await writer.FlushAsync(cancellationToken);
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        long received = 0;
        while (received < Volatile.Read(ref _total))
        {
            var read = await reader.ReadAsync(_readBuffer, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"The flow ended after {received} bytes, before the writer finished.");
            }

            received += read;
            Volatile.Write(ref _received, received);
            if (received >= FlowingThreshold)
            {
                _flowing.TrySetResult();
            }
        }

        _flowing.TrySetResult();
    }

    private static byte[] CreateWriteBuffer()
    {
        var buffer = new byte[WriteSize];
        buffer.AsSpan().Fill(0x5A);
        return buffer;
    }
}
