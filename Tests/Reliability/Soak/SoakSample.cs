using System.Diagnostics;

namespace FlowOrleans.Tests.Reliability.Soak;

/// <summary>
/// The process's footprint at one quiet point of a soak: the managed heap after a forced, compacting full collection,
/// the open file descriptors (every socket, pipe and epoll instance is one on Linux) and the threads.
/// </summary>
internal sealed record SoakSample(TimeSpan At, long Exchanges, long Bytes, long HeapBytes, int Handles, int Threads)
{
    public static SoakSample Take(TimeSpan at, long exchanges, long bytes)
    {
        // Twice, with the finalizers between: objects a finalizer released are collected by the second pass.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        using var process = Process.GetCurrentProcess();
        var handles = OperatingSystem.IsLinux() ? Directory.GetFileSystemEntries("/proc/self/fd").Length : process.HandleCount;
        return new SoakSample(at, exchanges, bytes, heap, handles, process.Threads.Count);
    }

    public override string ToString() =>
        $"{At.TotalSeconds,6:F1} s  exchanges {Exchanges,7}  bytes {Bytes / (1024.0 * 1024):F1} MiB  heap {HeapBytes / (1024.0 * 1024):F2} MiB  handles {Handles}  threads {Threads}";
}
