using System.Globalization;

namespace FlowOrleans.Cli.Transport;

/// <summary>Byte counts and rates as people read them.</summary>
internal static class Bytes
{
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };

    /// <summary>Megabytes (10^6 bytes) a second, as docs/benchmarks.md counts them.</summary>
    public static double MegabytesPerSecond(long bytes, TimeSpan elapsed) =>
        elapsed > TimeSpan.Zero ? Math.Round(bytes / 1e6 / elapsed.TotalSeconds, 2) : 0;

    public static string Milliseconds(double ms) => ms.ToString("F3", CultureInfo.InvariantCulture) + " ms";
}
