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

    public Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
        => PingPongScenario.MeasureAsync(system, settings, cancellationToken);
}
