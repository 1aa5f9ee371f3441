using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Head-of-line blocking: 128-byte round trips on one flow while a bulk flow saturates the same connection. Systems
/// without multiplexing put the two flows on two connections, so they show the cost of sharing the CPU only.
/// </summary>
internal sealed class HolPingPongScenario : IScenario
{
    public string Name => "hol-pingpong";

    public string Description => "128 B round trips on one flow while a bulk flow saturates the same connection";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        await using var bulkFlow = await connection.OpenFlowPairAsync(cancellationToken);
        await using var pingFlow = await connection.OpenFlowPairAsync(cancellationToken);
        var transfer = new OneWayTransfer(bulkFlow.Client, bulkFlow.Server);
        var histogram = PingPong.NewHistogram();

        using var stopBulk = new CancellationTokenSource();
        var meter = ResourceUsage.Start();
        var bulk = transfer.RunAsync(() => stopBulk.IsCancellationRequested, cancellationToken);
        try
        {
            // Measure only once the bulk flow is really competing; if it failed instead, surface that.
            await Task.WhenAny(transfer.Flowing, bulk).WaitAsync(cancellationToken);
            if (bulk.IsFaulted)
            {
                await bulk;
            }

            var deadline = new Deadline(settings.Duration);
            await PingPong.MeasureAsync(pingFlow.Client, pingFlow.Server, () => deadline.HasPassed, histogram, cancellationToken);
        }
        finally
        {
            await stopBulk.CancelAsync();
            await bulk;
        }

        var usage = meter.Stop();
        transfer.CheckComplete();
        return
        [
            new("rtt-p50", PingPong.Microseconds(histogram, 50), "µs"),
            new("rtt-p99", PingPong.Microseconds(histogram, 99), "µs"),
            new("bulk-throughput", transfer.Received / 1e6 / usage.Elapsed.TotalSeconds, "MB/s"),
            Metrics.Connections(connection.TransportConnections),
        ];
    }
}
