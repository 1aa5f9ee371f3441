using System.Globalization;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// The soft limit on open file descriptors (<c>ulimit -n</c>). Every TCP connection costs one descriptor at each end,
/// so a scenario with thousands of connections checks the limit first and fails with the fix in the message rather
/// than deep inside a socket call.
/// </summary>
internal static class OpenFileLimit
{
    private const string LimitsFile = "/proc/self/limits";

    // Descriptors a process needs beside the scenario's sockets: the runtime, its epoll, pipes to the client process,
    // listeners of the other systems, a few spare.
    private const int Headroom = 256;

    /// <summary>The soft limit, or null where it cannot be read (not Linux) or is unlimited.</summary>
    public static long? Soft()
    {
        if (!File.Exists(LimitsFile))
        {
            return null;
        }

        // "Max open files            20000                20000                files"
        var line = File.ReadLines(LimitsFile).FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 0 } && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? limit
            : null;
    }

    /// <summary>
    /// Throws unless a process may hold <paramref name="connections"/> more sockets; the server end lives in this process
    /// and the client end in a child process that inherits the same limit.
    /// </summary>
    public static void EnsureRoomFor(int connections, string scenario)
    {
        var open = ProcessFootprint.CurrentOpenFiles();
        var needed = open + connections + Headroom;
        if (Soft() is { } limit && limit < needed)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{scenario} needs about {needed:N0} open files in this process and as many in its client process, but " +
                $"the soft limit (ulimit -n) is {limit:N0}. Raise it in the shell that starts the benchmark, " +
                $"e.g. 'ulimit -n {Math.Max(needed, 20_000)}', or leave this scenario out."));
        }
    }
}
