namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Both ends of one flow as plain streams: what the client wrote arrives on <see cref="Server"/> and vice versa.
/// Disposing it closes both ends; an optional callback releases what the system keeps per flow.
/// </summary>
internal sealed class FlowPair : IAsyncDisposable
{
    private readonly Func<FlowPair, ValueTask>? _onDisposed;
    private int _disposed;

    public FlowPair(Stream client, Stream server, Func<FlowPair, ValueTask>? onDisposed = null)
    {
        Client = client;
        Server = server;
        _onDisposed = onDisposed;
    }

    public Stream Client { get; }

    public Stream Server { get; }

    public async ValueTask DisposeAsync()
    {
        // Both the scenario and a connection being torn down may dispose the same pair.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Client.DisposeAsync();
        await Server.DisposeAsync();
        if (_onDisposed is not null)
        {
            await _onDisposed(this);
        }
    }
}
