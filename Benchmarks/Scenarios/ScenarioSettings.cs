namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Sizes shared by all scenarios; <see cref="Quick"/> is the CI smoke run. The <c>scale</c> group measures idle
/// costs over <see cref="ScaleIdleWindow"/>, and in the smoke run <see cref="ScaleCap"/> shrinks its counts (connections,
/// flows per connection, clients) so that every scale scenario still runs end to end, at a tiny size.
/// </summary>
internal sealed record ScenarioSettings(TimeSpan Duration, int ManyFlows, int IdleFlows, TimeSpan ScaleIdleWindow, int? ScaleCap)
{
    // Health checks go out after 10 s of silence (a third of the default 30 s channel timeout) and their timer ticks
    // every 5 s, so 30 s holds two or three of them on every idle connection.
    public static ScenarioSettings Full { get; } =
        new(TimeSpan.FromSeconds(2), ManyFlows: 64, IdleFlows: 1000, ScaleIdleWindow: TimeSpan.FromSeconds(30), ScaleCap: null);

    public static ScenarioSettings Quick { get; } =
        new(TimeSpan.FromMilliseconds(100), ManyFlows: 64, IdleFlows: 32, ScaleIdleWindow: TimeSpan.FromMilliseconds(200), ScaleCap: 4);

    /// <summary>
    /// How long one run may take before the watchdog fails it: generous, since it exists to catch hangs, not
    /// slowness. Opening <see cref="IdleFlows"/> TLS connections is the slowest legitimate run.
    /// </summary>
    public TimeSpan WatchdogTimeout => TimeSpan.FromSeconds(30) + (Duration * 10);

    /// <summary>A count of the <c>scale</c> group as this run uses it: <paramref name="count"/>, or the smoke run's cap.</summary>
    public int Scaled(int count) => ScaleCap is { } cap ? Math.Min(count, cap) : count;
}
