using System.Diagnostics;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Wall time, process CPU time and managed allocations since <see cref="Start"/>. Both ends run in this process,
/// so the CPU and allocations are those of client and server together.
/// </summary>
internal readonly record struct ResourceUsage(TimeSpan Elapsed, TimeSpan Cpu, long AllocatedBytes)
{
    public static Meter Start() => new(Stopwatch.GetTimestamp(), ProcessCpu(), GC.GetTotalAllocatedBytes(precise: true));

    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    internal readonly record struct Meter(long StartTimestamp, TimeSpan StartCpu, long StartAllocated)
    {
        public ResourceUsage Stop() => new(
            Stopwatch.GetElapsedTime(StartTimestamp),
            ProcessCpu() - StartCpu,
            GC.GetTotalAllocatedBytes(precise: true) - StartAllocated);
    }
}
