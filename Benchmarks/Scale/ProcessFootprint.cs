using System.Diagnostics;
using System.Globalization;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// What a process holds at one moment: managed heap after a full collection, resident memory, open file descriptors
/// and threads, and the CPU time it has used so far. The scale scenarios take one in the benchmark process (the
/// server) and one in its client process, and read their costs as differences between two of them.
/// </summary>
internal readonly record struct ProcessFootprint(long HeapBytes, long ResidentBytes, int OpenFiles, int Threads, TimeSpan Cpu)
{
    private const string OpenFilesDirectory = "/proc/self/fd";

    /// <summary>
    /// Collects fully first (aggressive mode, which also returns free memory to the system, so resident memory shows
    /// what is live rather than what the collector kept around), then measures this process.
    /// </summary>
    public static ProcessFootprint Capture()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return new(heap, process.WorkingSet64, CountOpenFiles(process), process.Threads.Count, process.TotalProcessorTime);
    }

    /// <summary>File descriptors (sockets, pipes, files) this process has open now.</summary>
    public static int CurrentOpenFiles()
    {
        using var process = Process.GetCurrentProcess();
        return CountOpenFiles(process);
    }

    /// <summary>CPU time this process has used so far, without collecting.</summary>
    public static TimeSpan CurrentCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static int CountOpenFiles(Process self) => Directory.Exists(OpenFilesDirectory)
        ? Directory.EnumerateFileSystemEntries(OpenFilesDirectory).Count()
        : self.HandleCount;

    /// <summary>One line of text, as the client process reports it; <see cref="Parse"/> reads it back.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"{HeapBytes} {ResidentBytes} {OpenFiles} {Threads} {Cpu.Ticks}");

    public static ProcessFootprint Parse(string text)
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"'{text}' is not a process footprint (five numbers).");
        }

        long Field(int i) => long.Parse(fields[i], NumberStyles.Integer, CultureInfo.InvariantCulture);
        return new(Field(0), Field(1), checked((int)Field(2)), checked((int)Field(3)), TimeSpan.FromTicks(Field(4)));
    }
}
