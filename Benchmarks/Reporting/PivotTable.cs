using System.Text;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>
/// Chosen scenarios (the <c>scale</c> group) again, one scenario a row and one metric a column, medians only: a cost
/// is read across counts at a glance, while the long table above keeps min and max. Scenarios of one system that
/// report the same metrics share a table.
/// </summary>
internal static class PivotTable
{
    public static string ToText(IReadOnlyList<SummaryRow> rows, IReadOnlyCollection<string> scenarios)
    {
        var text = new StringBuilder();
        foreach (var table in Tables(rows, scenarios))
        {
            var widths = Enumerable.Range(0, table[0].Length).Select(c => table.Max(r => r[c].Length)).ToArray();
            text.AppendLine();
            foreach (var row in table)
            {
                // The scenario and system columns align left, numbers right.
                text.AppendJoin("  ", row.Select((cell, c) => c < 2 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c])));
                text.AppendLine();
            }
        }

        return text.ToString();
    }

    public static string ToMarkdown(IReadOnlyList<SummaryRow> rows, IReadOnlyCollection<string> scenarios)
    {
        var text = new StringBuilder();
        foreach (var table in Tables(rows, scenarios))
        {
            text.AppendLine();
            text.Append("| ").AppendJoin(" | ", table[0]).AppendLine(" |");
            text.Append("| --- | --- |").AppendJoin("", table[0].Skip(2).Select(_ => " ---: |")).AppendLine();
            foreach (var row in table.Skip(1))
            {
                text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
            }
        }

        return text.ToString();
    }

    /// <summary>Each table as rows of cells, the first row its header.</summary>
    private static List<string[][]> Tables(IReadOnlyList<SummaryRow> rows, IReadOnlyCollection<string> scenarios)
    {
        var runs = rows.Where(r => scenarios.Contains(r.Scenario))
            .GroupBy(r => (r.Scenario, r.System))
            .Select(run => (run.Key.Scenario, run.Key.System, Rows: run.ToList()))
            .ToList();

        // Runs keep the report's order within each table, and tables come in the order of their first run.
        return
        [
            .. runs
                .GroupBy(run => string.Join('\n', run.Rows.Select(r => $"{run.System} {r.Metric} {r.Unit}")))
                .Select(family => (string[][])
                [
                    ["scenario", "system", .. family.First().Rows.Select(r => $"{r.Metric} ({r.Unit})")],
                    .. family.Select(run => (string[])[run.Scenario, run.System, .. run.Rows.Select(r => Format.Number(r.Median))]),
                ]),
        ];
    }
}
