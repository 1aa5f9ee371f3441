using System.Globalization;

namespace FlowOrleans.Tests.Reliability.Chaos;

/// <summary>One process's resident memory and open file descriptors, read from <c>/proc</c> (Linux).</summary>
internal readonly record struct ProcessFootprint(long RssBytes, int Fds)
{
    /// <summary>Reads process <paramref name="pid"/>; null once it is gone (it may end between the two reads).</summary>
    public static ProcessFootprint? Read(int pid)
    {
        try
        {
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                // "VmRSS:	  123456 kB"
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                    break;
                }
            }

            return new ProcessFootprint(rss, Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static ProcessFootprint Max(ProcessFootprint a, ProcessFootprint b) => new(Math.Max(a.RssBytes, b.RssBytes), Math.Max(a.Fds, b.Fds));

    public override string ToString() => $"RSS {RssBytes / (1024.0 * 1024):F0} MiB, {Fds} fds";
}
