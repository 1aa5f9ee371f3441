using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// One workload, run once per system per round. A run makes its own connections, stays within
/// <see cref="ScenarioSettings.Duration"/> or a fixed count, and honours the token: the watchdog cancels it.
/// </summary>
internal interface IScenario
{
    string Name { get; }

    string Description { get; }

    /// <summary>Whether this scenario runs on <paramref name="system"/>; the runner skips the others.</summary>
    bool AppliesTo(IBenchSystem system) => !system.IsClusterRelay;

    /// <summary>
    /// Whether a discarded warm-up round runs first. A long scenario that warms itself up before it measures (the
    /// <c>scale</c> group) skips it.
    /// </summary>
    bool WarmsUp => true;

    /// <summary>How long one run may take before the watchdog fails it.</summary>
    TimeSpan WatchdogTimeout(ScenarioSettings settings) => settings.WatchdogTimeout;

    Task<IReadOnlyList<Measurement>> RunAsync(IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken);
}
