using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Many flows (64) writing one way at once on one connection, each as in <c>bulk-1flow</c>; timed until the last
/// reader has read to end of stream, with Jain's fairness index over the flows (<see cref="ConcurrentTransfers"/>).
/// </summary>
internal sealed class BulkManyFlowsScenario : IScenario
{
    public string Name => "bulk-64flows";

    public string Description => "64 flows one way at once: aggregate throughput and Jain fairness";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        var flows = new List<FlowPair>(settings.ManyFlows);
        try
        {
            for (var i = 0; i < settings.ManyFlows; i++)
            {
                flows.Add(await connection.OpenFlowPairAsync(cancellationToken));
            }

            var transfers = flows.Select(flow => new OneWayTransfer(flow.Client, flow.Server)).ToArray();
            return
            [
                .. await ConcurrentTransfers.MeasureAsync(transfers, settings.Duration, cancellationToken),
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
