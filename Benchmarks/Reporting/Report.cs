using System.Globalization;
using System.Text;
using System.Text.Json;
using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>
/// The results of one benchmark run, ready to print or save; the scenarios in <paramref name="pivoted"/> are shown
/// a second time as <see cref="PivotTable"/>s after the long table.
/// </summary>
internal sealed class Report(
    IReadOnlyList<SummaryRow> rows,
    IReadOnlyList<RunOutcome> failures,
    IReadOnlyList<BenchSystemInfo> systems,
    string? baseline,
    string settings,
    string conditions,
    IReadOnlyCollection<string> pivoted)
{
    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {MachineInfo.Describe()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Settings: {settings}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Conditions: {conditions}");
        text.AppendLine();
        text.Append(ResultTable.ToText(rows, baseline));
        text.Append(PivotTable.ToText(rows, pivoted));
        AppendNotes(text, bullet: "  ");
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {MachineInfo.Describe()}  ");
        text.AppendLine(CultureInfo.InvariantCulture, $"Settings: {settings}  ");
        text.AppendLine(CultureInfo.InvariantCulture, $"Conditions: {conditions}");
        text.AppendLine();
        text.Append(ResultTable.ToMarkdown(rows, baseline));
        text.Append(PivotTable.ToMarkdown(rows, pivoted));
        AppendNotes(text, bullet: "- ");
        return text.ToString();
    }

    public string ToJson()
    {
        var results = rows.Select(r => new JsonResult(r.Scenario, r.System, r.Metric, r.Median, r.Unit, r.Min, r.Max)).ToList();
        return JsonSerializer.Serialize(results, BenchJsonContext.Default.ListJsonResult);
    }

    private void AppendNotes(StringBuilder text, string bullet)
    {
        text.AppendLine();
        text.AppendLine("Systems:");
        foreach (var system in systems)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{bullet}{system.Name}: {system.Description}");
        }

        text.AppendLine(CultureInfo.InvariantCulture,
            $"{bullet}Systems without multiplexing run each flow on its own connection; the connections metric says how many.");

        if (failures.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Failures:");
            foreach (var failure in failures)
            {
                var round = failure.IsWarmUp ? "warm-up" : $"round {failure.Round}";
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{bullet}{failure.Scenario} on {failure.System} ({round}): {failure.Failure}");
            }
        }
    }
}
