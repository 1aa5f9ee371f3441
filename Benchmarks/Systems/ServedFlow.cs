namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Serves the accepting end of one flow, as a server's handler would; the end is disposed when it returns.
/// </summary>
internal delegate Task FlowHandler(FlowEnd server, CancellationToken cancellationToken);

/// <summary>
/// A flow opened the way a client opens one: the scenario holds the <see cref="Client"/> end, and the accepting end
/// went to a <see cref="FlowHandler"/> whose work (including disposing its end) is <see cref="Served"/>. The client
/// never waits for the server to accept before writing, unless the system itself makes it (a channel offer, a
/// connection's handshake).
/// </summary>
internal sealed record ServedFlow(FlowEnd Client, Task Served)
{
    /// <summary>Runs <paramref name="handler"/> on <paramref name="server"/>, then disposes it whatever happened.</summary>
    public static async Task ServeAsync(FlowEnd server, FlowHandler handler, CancellationToken cancellationToken)
    {
        await using (server)
        {
            await handler(server, cancellationToken);
        }
    }
}
