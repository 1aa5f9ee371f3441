namespace FlowOrleans.Cli.Transport;

/// <summary>Round-trip times in milliseconds: count, min, average, median (nearest rank), max.</summary>
internal sealed record RttSummary(int Count, double MinMs, double AvgMs, double P50Ms, double MaxMs, IReadOnlyList<double> SamplesMs)
{
    public static RttSummary Of(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        return new RttSummary(sorted.Length, sorted[0], samples.Average(), sorted[((sorted.Length + 1) / 2) - 1], sorted[^1], samples);
    }
}
