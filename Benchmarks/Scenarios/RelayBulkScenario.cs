using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// <c>bulk-1flow</c> on the cluster path: one flow from an Orleans client through a silo to an outside peer, one way.
/// It also runs on <c>flow</c>, the same peer reached directly, which is what the relay costs are read against.
/// </summary>
internal sealed class RelayBulkScenario : IScenario
{
    public string Name => "orleans-relay-bulk";

    public string Description => "one client flow through a silo to an outside peer, one way, 64 KiB writes";

    public bool AppliesTo(IBenchSystem system) => RelayScenario.AppliesTo(system);

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await system.ConnectAsync(cancellationToken);
        return await BulkOneFlowScenario.MeasureAsync(connection, settings, cancellationToken);
    }
}
