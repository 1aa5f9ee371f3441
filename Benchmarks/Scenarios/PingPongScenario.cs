using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>128-byte round trips on one otherwise idle flow: the latency floor of each system.</summary>
internal sealed class PingPongScenario : IScenario
{
    public string Name => "pingpong-128B";

    public string Description => "128 B request/response round trips on one flow";

    public Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
        => MeasureAsync(system, settings, cancellationToken);

    /// <summary>Round-trip percentiles over one new flow pair of <paramref name="system"/>; the relay scenario reuses it.</summary>
    internal static async Task<IReadOnlyList<Measurement>> MeasureAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        await using var flow = await connection.OpenFlowPairAsync(cancellationToken);
        var histogram = PingPong.NewHistogram();

        var deadline = new Deadline(settings.Duration);
        await PingPong.MeasureAsync(flow.Client, flow.Server, () => deadline.HasPassed, histogram, cancellationToken);

        return
        [
            new("rtt-p50", PingPong.Microseconds(histogram, 50), "µs"),
            new("rtt-p99", PingPong.Microseconds(histogram, 99), "µs"),
        ];
    }
}
