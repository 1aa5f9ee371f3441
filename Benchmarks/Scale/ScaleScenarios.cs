using FlowOrleans.Benchmarks.Scenarios;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// The <c>scale</c> group (issue 21): cost as work grows. Idle connections and idle flows on one manager, then Orleans
/// clients through two silos. Run with <c>--scenario scale</c>; a full run without <c>--scenario</c> leaves it out
/// (it takes many minutes), the smoke run includes it at a tiny size.
/// </summary>
internal static class ScaleScenarios
{
    public const string GroupName = "scale";

    /// <summary>Flows per connection for 100,000 flows: inside the default 1,024 concurrent flows a connection allows.</summary>
    public const int FlowsPerConnection = 1_000;

    public static IReadOnlyList<IScenario> All { get; } =
    [
        new IdleScaleScenario("scale-conns-1", connections: 1, flowsPerConnection: 0),
        new IdleScaleScenario("scale-conns-100", connections: 100, flowsPerConnection: 0),
        new IdleScaleScenario("scale-conns-1000", connections: 1_000, flowsPerConnection: 0),
        new IdleScaleScenario("scale-conns-10000", connections: 10_000, flowsPerConnection: 0),
        new IdleScaleScenario("scale-flows-100000", connections: 100, flowsPerConnection: FlowsPerConnection),
        new ClusterClientsScenario(clients: 1),
        new ClusterClientsScenario(clients: 8),
        new ClusterClientsScenario(clients: 64),
    ];
}
