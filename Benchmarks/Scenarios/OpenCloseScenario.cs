using System.Diagnostics;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Flow churn on one connection: open a flow, exchange 128 bytes each way, close it, repeat. For systems without
/// multiplexing every iteration is a new connection, handshake included.
/// </summary>
internal sealed class OpenCloseScenario : IScenario
{
    public string Name => "open-close";

    public string Description => "flows opened, one 128 B exchange, closed, in sequence on one connection";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        var buffer = new byte[PingPong.MessageSize];
        var flows = 0;

        var start = Stopwatch.GetTimestamp();
        var deadline = new Deadline(settings.Duration);
        while (!deadline.HasPassed)
        {
            await using var flow = await connection.OpenFlowPairAsync(cancellationToken);
            await SmallExchange.RunAsync(flow.Client, flow.Server, buffer, cancellationToken);
            flows++;
        }

        return
        [
            Metrics.Rate("rate", flows, Stopwatch.GetElapsedTime(start), "flows/s"),
            Metrics.Connections(connection.TransportConnections),
        ];
    }
}
