using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>Which systems the <c>orleans-relay-*</c> scenarios run on.</summary>
internal static class RelayScenario
{
    // The direct path to the same kind of peer: the relay's numbers mean something only next to it.
    private const string DirectSystem = "flow";

    public static bool AppliesTo(IBenchSystem system) => system is OrleansSystem || system.Name == DirectSystem;
}
