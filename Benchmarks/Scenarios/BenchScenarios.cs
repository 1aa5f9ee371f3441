namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>Every scenario the command line can select, in run and report order.</summary>
internal static class BenchScenarios
{
    public static IReadOnlyList<IScenario> All { get; } =
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
}
