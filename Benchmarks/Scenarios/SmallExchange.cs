using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// One request and one response of a few bytes on a new flow, which proves that both of its ends work. Messages this
/// small fit in any window, so the steps run in sequence on one task.
/// </summary>
internal static class SmallExchange
{
    public static async ValueTask RunAsync(FlowPair flow, byte[] buffer, CancellationToken cancellationToken)
    {
        var client = flow.Client.Stream;
        var server = flow.Server.Stream;
        await client.WriteAsync(buffer, cancellationToken);
        await client.FlushAsync(cancellationToken);
        await server.ReadExactlyAsync(buffer, cancellationToken);
        await server.WriteAsync(buffer, cancellationToken);
        await server.FlushAsync(cancellationToken);
        await client.ReadExactlyAsync(buffer, cancellationToken);
    }
}
