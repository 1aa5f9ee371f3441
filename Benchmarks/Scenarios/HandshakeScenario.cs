using System.Diagnostics;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// New connections per second, one after another: TCP connect and accept, plus for the secure systems the full
/// mutually authenticated handshake (no resumption) and whatever the system sets up before its first flow.
/// </summary>
internal sealed class HandshakeScenario : IScenario
{
    public string Name => "handshake";

    public string Description => "new authenticated connections per second, sequential";

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        var connections = 0;
        var start = Stopwatch.GetTimestamp();
        var deadline = new Deadline(settings.Duration);
        while (!deadline.HasPassed)
        {
            var connection = await system.ConnectAsync(cancellationToken);
            await connection.DisposeAsync();
            connections++;
        }

        return [Metrics.Rate("rate", connections, Stopwatch.GetElapsedTime(start), "conns/s")];
    }
}
