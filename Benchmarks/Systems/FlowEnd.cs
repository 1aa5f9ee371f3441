namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// One end of a flow: a <see cref="Stream"/> plus the system's own way of closing its write side, after which the
/// peer reads what was written and then end of stream (a read of 0). <see cref="Stream"/> has no half-close, and each
/// system spells it differently (a TCP shutdown, a TLS close_notify, a completed pipe, <c>IFlow.CloseWriteAsync</c>).
/// Disposing closes the end for good and releases what the system keeps for it; it is idempotent, since both a
/// scenario and a connection being torn down may dispose the same end.
/// </summary>
internal sealed class FlowEnd : IAsyncDisposable
{
    private readonly Func<CancellationToken, ValueTask> _closeWrite;
    private readonly Func<FlowEnd, ValueTask>? _onDisposed;
    private int _disposed;

    public FlowEnd(Stream stream, Func<CancellationToken, ValueTask> closeWrite, Func<FlowEnd, ValueTask>? onDisposed = null)
    {
        Stream = stream;
        _closeWrite = closeWrite;
        _onDisposed = onDisposed;
    }

    public Stream Stream { get; }

    /// <summary>Flushes, then closes the write side: the peer reads everything written so far, then end of stream.</summary>
    public async ValueTask CloseWriteAsync(CancellationToken cancellationToken)
    {
        await Stream.FlushAsync(cancellationToken);
        await _closeWrite(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Stream.DisposeAsync();
        if (_onDisposed is not null)
        {
            await _onDisposed(this);
        }
    }
}
