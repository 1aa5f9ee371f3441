using FlowOrleans.Benchmarks.Running;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>Metric names and units shared by scenarios, so the report lines up across them.</summary>
internal static class Metrics
{
    private const double BytesPerMegabyte = 1e6;
    private const double BytesPerGigabyte = 1e9;

    /// <summary>
    /// Throughput plus its CPU and allocation cost per GB moved, and the cores the process kept busy: well under the
    /// machine's count while throughput is low means the run was starved (by other work on the machine) or serialised.
    /// </summary>
    public static IEnumerable<Measurement> Bulk(long bytes, ResourceUsage usage)
    {
        var gigabytes = bytes / BytesPerGigabyte;
        yield return new("throughput", bytes / BytesPerMegabyte / usage.Elapsed.TotalSeconds, "MB/s");
        yield return new("cpu", usage.Cpu.TotalSeconds / gigabytes, "s/GB");
        yield return new("cores", usage.Cpu / usage.Elapsed, "cores");
        yield return new("alloc", usage.AllocatedBytes / gigabytes, "B/GB");
    }

    public static Measurement Rate(string metric, int count, TimeSpan elapsed, string unit) =>
        new(metric, count / elapsed.TotalSeconds, unit);

    /// <summary>Transport connections used: shows where a system without multiplexing needed one per flow.</summary>
    public static Measurement Connections(int count) => new("connections", count, "sockets", Comparable: false);

    /// <summary>
    /// Jain's fairness index, (Σx)² / (n·Σx²): 1 when every flow got the same share, 1/n when one flow got all.
    /// </summary>
    public static double JainIndex(IReadOnlyCollection<long> shares)
    {
        double sum = 0;
        double sumOfSquares = 0;
        foreach (var share in shares)
        {
            sum += share;
            sumOfSquares += (double)share * share;
        }

        return sumOfSquares == 0 ? 0 : sum * sum / (shares.Count * sumOfSquares);
    }
}
