namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// One end of a flow: a <see cref="Stream"/> plus the system's own way of closing its write side, after which the
/// peer reads what was written and then end of stream (a read of 0). <see cref="Stream"/> has no half-close, and each
/// system spells it differently (a TCP shutdown, a TLS close_notify, a completed pipe, <c>IFlow.CloseWriteAsync</c>).
/// Disposing closes the end for good and releases what the system keeps for it; it is idempotent, since both a
/// scenario and a connection being torn down may dispose the same end. One object per end, with no delegates, so
/// the harness adds little to what <c>idle-flow-memory</c> counts.
/// </summary>
internal abstract class FlowEnd(Stream stream) : IAsyncDisposable
{
    private int _disposed;

    public Stream Stream { get; } = stream;

    /// <summary>Flushes, then closes the write side: the peer reads everything written so far, then end of stream.</summary>
    public async ValueTask CloseWriteAsync(CancellationToken cancellationToken)
    {
        await Stream.FlushAsync(cancellationToken);
        await CloseWriteCoreAsync(cancellationToken);
    }

    /// <summary>
    /// Awaits the other end's <paramref name="work"/>; if it fails, disposes this end first, since whoever uses this
    /// end would otherwise wait for bytes or credit that never come.
    /// </summary>
    public async Task DisposeIfFailsAsync(Task work)
    {
        try
        {
            await work;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Stream.DisposeAsync();
        await OnDisposedAsync();
        GC.SuppressFinalize(this);
    }

    protected abstract ValueTask CloseWriteCoreAsync(CancellationToken cancellationToken);

    /// <summary>Releases what the system keeps for this end beyond its stream.</summary>
    protected virtual ValueTask OnDisposedAsync() => ValueTask.CompletedTask;
}
