using System.Text.Json.Serialization;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>One element of the --json array: the median as value, with the min and max over measured rounds.</summary>
internal sealed record JsonResult(
    string Scenario, string System, string Metric, double Value, string Unit, double Min, double Max);

/// <summary>Source-generated serialisation, so the harness needs no reflection (and stays trim- and AOT-clean).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(List<JsonResult>))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
