namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>Sizes shared by all scenarios; <see cref="Quick"/> is the CI smoke run.</summary>
internal sealed record ScenarioSettings(TimeSpan Duration, int ManyFlows, int IdleFlows)
{
    public static ScenarioSettings Full { get; } = new(TimeSpan.FromSeconds(2), ManyFlows: 64, IdleFlows: 1000);

    public static ScenarioSettings Quick { get; } = new(TimeSpan.FromMilliseconds(100), ManyFlows: 64, IdleFlows: 32);

    /// <summary>
    /// How long one run may take before the watchdog fails it: generous, since it exists to catch hangs, not
    /// slowness. Opening <see cref="IdleFlows"/> TLS connections is the slowest legitimate run.
    /// </summary>
    public TimeSpan WatchdogTimeout => TimeSpan.FromSeconds(30) + (Duration * 10);
}
