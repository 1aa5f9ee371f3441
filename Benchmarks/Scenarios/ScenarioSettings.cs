namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Sizes shared by all scenarios; <see cref="Quick"/> is the CI smoke run. The <c>scale</c> group lets each stage
/// settle for <see cref="ScaleSettle"/>, then measures idle costs over <see cref="ScaleIdleWindow"/>, and runs its
/// cluster bulk for <see cref="ScaleBulkDuration"/>; in the smoke run <see cref="ScaleCap"/> shrinks its counts
/// (connections, flows per connection, clients) so that every scale scenario still runs end to end, at a tiny size.
/// </summary>
internal sealed record ScenarioSettings(
    TimeSpan Duration,
    int ManyFlows,
    int IdleFlows,
    TimeSpan ScaleSettle,
    TimeSpan ScaleIdleWindow,
    TimeSpan ScaleBulkDuration,
    int? ScaleCap)
{
    // Settle: the last handshakes' RTT samples finish, and thread pool workers a burst of connects started retire
    // (after 20 s without work), so their stacks and wake-ups are not charged to the idle connections.
    // Idle window: health checks go out after 10 s of silence (a third of the default 30 s channel timeout) and their
    // timer ticks every 5 s, so 30 s holds two or three of them on every idle connection.
    // Cluster bulk: 10 s, so that hundreds of flows are long past their first windows when fairness is taken.
    public static ScenarioSettings Full { get; } = new(
        TimeSpan.FromSeconds(2), ManyFlows: 64, IdleFlows: 1000, ScaleSettle: TimeSpan.FromSeconds(21),
        ScaleIdleWindow: TimeSpan.FromSeconds(30), ScaleBulkDuration: TimeSpan.FromSeconds(10), ScaleCap: null);

    public static ScenarioSettings Quick { get; } = new(
        TimeSpan.FromMilliseconds(100), ManyFlows: 64, IdleFlows: 32, ScaleSettle: TimeSpan.Zero,
        ScaleIdleWindow: TimeSpan.FromMilliseconds(200), ScaleBulkDuration: TimeSpan.FromMilliseconds(100), ScaleCap: 4);

    /// <summary>
    /// How long one run may take before the watchdog fails it: generous, since it exists to catch hangs, not
    /// slowness. Opening <see cref="IdleFlows"/> TLS connections is the slowest legitimate run.
    /// </summary>
    public TimeSpan WatchdogTimeout => TimeSpan.FromSeconds(30) + (Duration * 10);

    /// <summary>A count of the <c>scale</c> group as this run uses it: <paramref name="count"/>, or the smoke run's cap.</summary>
    public int Scaled(int count) => ScaleCap is { } cap ? Math.Min(count, cap) : count;
}
