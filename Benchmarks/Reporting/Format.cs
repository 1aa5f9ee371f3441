using System.Globalization;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>Number formatting for tables and progress lines: about four significant digits, invariant culture.</summary>
internal static class Format
{
    public static string Number(double value) => Math.Abs(value) switch
    {
        >= 10_000 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 100 => value.ToString("F1", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("F2", CultureInfo.InvariantCulture),
        _ => value.ToString("F3", CultureInfo.InvariantCulture),
    };

    public static string Ratio(double? ratio) =>
        ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "";
}
