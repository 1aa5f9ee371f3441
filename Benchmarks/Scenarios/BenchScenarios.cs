using FlowOrleans.Benchmarks.Scale;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>Every scenario the command line can select, in run and report order, and the groups it can select at once.</summary>
internal static class BenchScenarios
{
    /// <summary>The scenarios of a full run without <c>--scenario</c>: all but the long <c>scale</c> group.</summary>
    public static IReadOnlyList<IScenario> Standard { get; } =
    [
        new BulkOneFlowScenario(),
        new BulkManyFlowsScenario(),
        new PingPongScenario(),
        new HolPingPongScenario(),
        new OpenCloseScenario(loops: 1),
        new OpenCloseScenario(loops: OpenCloseScenario.ManyLoops),
        new IdleFlowMemoryScenario(),
        new HandshakeScenario(),
        new RelayBulkScenario(),
        new RelayPingPongScenario(),
        new GrainCallScenario(),
    ];

    public static IReadOnlyList<IScenario> All { get; } = [.. Standard, .. ScaleScenarios.All];

    /// <summary>Names that select several scenarios at once.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<IScenario>> Groups { get; } =
        new Dictionary<string, IReadOnlyList<IScenario>>(StringComparer.OrdinalIgnoreCase)
        {
            [ScaleScenarios.GroupName] = ScaleScenarios.All,
        };

    /// <summary>
    /// What runs without <c>--scenario</c>: the smoke run exercises everything (the scale group at a tiny size), a
    /// full run leaves out the scale group, which takes many minutes and is run on its own.
    /// </summary>
    public static IReadOnlyList<IScenario> Default(bool quick) => quick ? All : Standard;
}
