using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// <c>pingpong-128B</c> on the cluster path: the client pings through a silo and the outside peer echoes. Also runs on
/// <c>flow</c>, the direct path, for comparison.
/// </summary>
internal sealed class RelayPingPongScenario : IScenario
{
    public string Name => "orleans-relay-pingpong";

    public string Description => "128 B round trips from a client through a silo to an outside peer";

    public bool AppliesTo(IBenchSystem system) => RelayScenario.AppliesTo(system);

    public async Task<IReadOnlyList<Measurement>> RunAsync(
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
