using System.Text;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>The summary as a table of strings, printed either aligned for the console or as Markdown.</summary>
internal static class ResultTable
{
    public static string ToText(IReadOnlyList<SummaryRow> rows, string? baseline)
    {
        var cells = Cells(rows, baseline);
        var widths = Enumerable.Range(0, cells[0].Length).Select(c => cells.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in cells)
        {
            for (var c = 0; c < row.Length; c++)
            {
                // Text columns align left, numbers right.
                var cell = c < 3 || c == 6 ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]);
                text.Append(cell).Append(c < row.Length - 1 ? "  " : "");
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    public static string ToMarkdown(IReadOnlyList<SummaryRow> rows, string? baseline)
    {
        var cells = Cells(rows, baseline);
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", cells[0]).AppendLine(" |");
        text.AppendLine("| --- | --- | --- | ---: | ---: | ---: | --- | ---: |");
        foreach (var row in cells.Skip(1))
        {
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }

        return text.ToString();
    }

    private static List<string[]> Cells(IReadOnlyList<SummaryRow> rows, string? baseline)
    {
        var cells = new List<string[]>
        {
            new[] { "scenario", "metric", "system", "median", "min", "max", "unit", baseline is null ? "ratio" : $"×{baseline}" },
        };
        cells.AddRange(rows.Select(r => new[]
        {
            r.Scenario, r.Metric, r.System, Format.Number(r.Median), Format.Number(r.Min), Format.Number(r.Max), r.Unit,
            Format.Ratio(r.Ratio),
        }));
        return cells;
    }
}
