namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>
/// One metric of one system in one scenario over the measured rounds. <see cref="Ratio"/> is the median over rounds
/// of this system's value divided by the baseline's value in the same round.
/// </summary>
internal sealed record SummaryRow(
    string Scenario,
    string Metric,
    string System,
    string Unit,
    double Median,
    double Min,
    double Max,
    int Rounds,
    double? Ratio);
