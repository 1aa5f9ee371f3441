namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Both ends of one flow, for scenarios that drive both: what <see cref="Client"/> writes arrives on
/// <see cref="Server"/> and vice versa. Disposing it disposes both ends.
/// </summary>
internal sealed class FlowPair(FlowEnd client, FlowEnd server) : IAsyncDisposable
{
    public FlowEnd Client { get; } = client;

    public FlowEnd Server { get; } = server;

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
