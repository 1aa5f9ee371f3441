namespace FlowOrleans.Benchmarks.Running;

/// <summary>
/// One number a scenario run produced, e.g. ("throughput", 812.5, "MB/s"). A non-comparable one (such as how many
/// connections a system used) is reported without a ratio to the baseline.
/// </summary>
internal sealed record Measurement(string Metric, double Value, string Unit, bool Comparable = true);
