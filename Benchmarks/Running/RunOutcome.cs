namespace FlowOrleans.Benchmarks.Running;

/// <summary>What one run of one scenario on one system in one round gave: measurements, or why it failed.</summary>
internal sealed record RunOutcome(
    string Scenario,
    string System,
    int Round,
    IReadOnlyList<Measurement> Measurements,
    string? Failure)
{
    /// <summary>Round 0 warms up the JIT, pools and caches; it is reported as progress but never aggregated.</summary>
    public bool IsWarmUp => Round == 0;
}
