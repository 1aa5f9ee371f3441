using System.Runtime.InteropServices;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>What the numbers were measured on, printed with every report since they only compare within one run.</summary>
internal static class MachineInfo
{
    public static string Describe() =>
        $"{Environment.ProcessorCount} cores, {CpuModel()}, {RuntimeInformation.FrameworkDescription}, " +
        $"{RuntimeInformation.OSDescription}";

    /// <summary>
    /// The 1, 5 and 15 minute load averages: on a shared machine they tell whether other work ran beside a benchmark.
    /// </summary>
    public static string LoadAverage()
    {
        const string loadAvg = "/proc/loadavg";
        return File.Exists(loadAvg)
            ? string.Join(' ', File.ReadAllText(loadAvg).Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(3))
            : "n/a";
    }

    private static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (!File.Exists(cpuInfo))
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }

        var line = File.ReadLines(cpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() ?? "unknown CPU";
    }
}
