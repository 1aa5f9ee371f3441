using System.Diagnostics;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Flow churn on one connection: open a flow, exchange 128 bytes each way, close it, repeat. Issue 7 asks for flows
/// opened, used and closed per second on one connection, not for one at a time: the headline <c>rate</c> runs
/// <see cref="Concurrency"/> such loops at once (the same number for every system), as a server with many callers
/// would. A single loop is bound by round trips rather than by the multiplexer's cost (one for us, two for a
/// multiplexer whose channels are offered and accepted), so it is reported too, as <c>rate-sequential</c>. For
/// systems without multiplexing every iteration is a new connection, handshake included.
/// </summary>
internal sealed class OpenCloseScenario : IScenario
{
    /// <summary>Open/use/close loops running at once in the <c>rate</c> measurement.</summary>
    public const int Concurrency = 32;

    public string Name => "open-close";

    public string Description => $"flows opened, one 128 B exchange, closed: {Concurrency} loops at once, and one, on one connection";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);

        var meter = ResourceUsage.Start();
        var deadline = new Deadline(settings.Duration);
        var loops = new Task<int>[Concurrency];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = Task.Run(() => RunLoopAsync(connection, deadline, cancellationToken), cancellationToken);
        }

        var flows = (await Task.WhenAll(loops)).Sum();
        var usage = meter.Stop();

        var start = Stopwatch.GetTimestamp();
        var sequential = await RunLoopAsync(connection, new Deadline(settings.Duration / 2), cancellationToken);
        var sequentialElapsed = Stopwatch.GetElapsedTime(start);

        return
        [
            Metrics.Rate("rate", flows, usage.Elapsed, "flows/s"),
            new("cpu", usage.Cpu.TotalMicroseconds / flows, "µs/flow"),
            new("alloc", (double)usage.AllocatedBytes / flows, "B/flow"),
            Metrics.Rate("rate-sequential", sequential, sequentialElapsed, "flows/s"),
            Metrics.Connections(connection.TransportConnections),
        ];
    }

    private static async Task<int> RunLoopAsync(IBenchConnection connection, Deadline deadline, CancellationToken cancellationToken)
    {
        var buffer = new byte[PingPong.MessageSize];
        var flows = 0;
        while (!deadline.HasPassed)
        {
            await using var flow = await connection.OpenFlowPairAsync(cancellationToken);
            await SmallExchange.RunAsync(flow.Client, flow.Server, buffer, cancellationToken);
            flows++;
        }

        return flows;
    }
}
