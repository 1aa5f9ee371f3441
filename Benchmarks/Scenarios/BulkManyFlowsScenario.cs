using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Many flows (64) writing one way at once on one connection, each as in <c>bulk-1flow</c>; timed until the last
/// reader has read to end of stream. Fairness is Jain's index over the bytes each flow had delivered when the
/// deadline passed (not over bytes written, which would count what sits in windows).
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
            long[]? sharesAtDeadline = null;
            var meter = ResourceUsage.Start();
            var deadline = new Deadline(settings.Duration);
            bool ShouldStop()
            {
                if (!deadline.HasPassed)
                {
                    return false;
                }

                // The first writer to see the deadline takes the snapshot.
                if (Volatile.Read(ref sharesAtDeadline) is null)
                {
                    Interlocked.CompareExchange(ref sharesAtDeadline, [.. transfers.Select(t => t.Received)], null);
                }

                return true;
            }

            await Task.WhenAll(transfers.Select(t => t.RunAsync(ShouldStop, cancellationToken)));
            var usage = meter.Stop();
            foreach (var transfer in transfers)
            {
                transfer.CheckComplete();
            }

            return
            [
                .. Metrics.Bulk(transfers.Sum(t => t.Received), usage),
                new("fairness", Metrics.JainIndex(sharesAtDeadline!), "jain"),
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
