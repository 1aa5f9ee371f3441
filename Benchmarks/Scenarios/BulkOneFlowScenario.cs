using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// One flow, one direction, 64 KiB writes of checked random bytes for the run's duration; timed until the reader has
/// read to end of stream after the writer closed its side.
/// </summary>
internal sealed class BulkOneFlowScenario : IScenario
{
    public string Name => "bulk-1flow";

    public string Description => "one flow one way, 64 KiB writes";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        return [.. await MeasureAsync(connection, settings, cancellationToken), Metrics.Connections(connection.TransportConnections)];
    }

    /// <summary>Bulk metrics of one flow pair on <paramref name="connection"/>; the relay scenario reuses it.</summary>
    internal static async Task<IReadOnlyList<Measurement>> MeasureAsync(
        IBenchConnection connection, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var flow = await connection.OpenFlowPairAsync(cancellationToken);
        var transfer = new OneWayTransfer(flow.Client, flow.Server);

        var meter = ResourceUsage.Start();
        var deadline = new Deadline(settings.Duration);
        await transfer.RunAsync(() => deadline.HasPassed, cancellationToken);
        var usage = meter.Stop();
        transfer.CheckComplete();

        return [.. Metrics.Bulk(transfer.Received, usage)];
    }
}
