namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// One request and one response of a few bytes on a new flow, which proves that both of its ends work. Messages this
/// small fit in any window, so the steps run in sequence on one task.
/// </summary>
internal static class SmallExchange
{
    public static async ValueTask RunAsync(Stream client, Stream server, byte[] buffer, CancellationToken cancellationToken)
    {
        await client.WriteAsync(buffer, cancellationToken);
        await client.FlushAsync(cancellationToken);
        await server.ReadExactlyAsync(buffer, cancellationToken);
        await server.WriteAsync(buffer, cancellationToken);
        await server.FlushAsync(cancellationToken);
        await client.ReadExactlyAsync(buffer, cancellationToken);
    }
}
