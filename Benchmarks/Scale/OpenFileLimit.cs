using System.Globalization;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// The limit on open file descriptors. Every TCP connection costs one descriptor at each end, so a scenario with
/// thousands of connections checks the limit first and fails with the fix in the message rather than deep inside a
/// socket call. Nothing needs raising from in here: the .NET runtime already raises its process's soft limit to the
/// hard limit as it starts (so a shell's <c>ulimit -Sn 1024</c> does not bind, checked on Linux with .NET 10), and the
/// client process gets the same; what can fall short is the hard limit, which only a privileged user can raise.
/// </summary>
internal static class OpenFileLimit
{
    private const string LimitsFile = "/proc/self/limits";

    // Descriptors a process needs beside the scenario's sockets: the runtime, its epoll, pipes to the client process,
    // listeners of the other systems, a few spare.
    private const int Headroom = 256;

    /// <summary>The soft limit in force, or null where it cannot be read (not Linux) or is unlimited.</summary>
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
                $"the limit is {limit:N0} (the runtime has already raised the soft limit to the hard one). Raise the hard " +
                $"limit for the shell that starts the benchmark (as root 'ulimit -Hn {Math.Max(needed, 20_000)}', or nofile " +
                $"in /etc/security/limits.conf, LimitNOFILE for a service, --ulimit nofile for a container), or leave this scenario out."));
        }
    }
}
