using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Managed memory held per idle open flow, both ends counted (they live in this process): open N flows on one
/// connection, exchange one byte each way on each so both ends are fully set up, then compare
/// <see cref="GC.GetTotalMemory(bool)"/> after a full collection with the figure before. Kernel socket buffers and
/// native TLS state are not managed memory and are not counted.
/// </summary>
internal sealed class IdleFlowMemoryScenario : IScenario
{
    public string Name => "idle-flow-memory";

    public string Description => "managed bytes per idle open flow, both ends, after a full GC";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        var buffer = new byte[1];

        // One flow first, so structures a connection creates lazily on its first flow are not charged to the N.
        await using (var first = await connection.OpenFlowPairAsync(cancellationToken))
        {
            await SmallExchange.RunAsync(first, buffer, cancellationToken);
        }

        var flows = new List<FlowPair>(settings.IdleFlows);
        try
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            for (var i = 0; i < settings.IdleFlows; i++)
            {
                var flow = await connection.OpenFlowPairAsync(cancellationToken);
                flows.Add(flow);
                await SmallExchange.RunAsync(flow, buffer, cancellationToken);
            }

            var after = GC.GetTotalMemory(forceFullCollection: true);
            return
            [
                new("memory-per-flow", (double)(after - before) / settings.IdleFlows, "B"),
                Metrics.Connections(connection.TransportConnections),
            ];
        }
        finally
        {
            foreach (var flow in flows)
            {
                await flow.DisposeAsync();
            }
        }
    }
}
