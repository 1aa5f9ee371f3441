using FlowOrleans.Benchmarks.Running;

namespace FlowOrleans.Benchmarks.Reporting;

/// <summary>Turns the measured (non-warm-up, successful) runs into one <see cref="SummaryRow"/> per scenario, metric and system.</summary>
internal static class Summary
{
    public static IReadOnlyList<SummaryRow> Build(
        IReadOnlyList<RunOutcome> outcomes, IReadOnlyList<string> systemOrder, string? baseline)
    {
        var measured = outcomes.Where(o => !o.IsWarmUp && o.Failure is null)
            .SelectMany(o => o.Measurements.Select(m => (o.Scenario, o.System, o.Round, Measurement: m)))
            .ToList();

        var rows = new List<SummaryRow>();
        foreach (var group in measured.GroupBy(m => (m.Scenario, m.Measurement.Metric)))
        {
            var baselineByRound = group.Where(m => m.System == baseline)
                .ToDictionary(m => m.Round, m => m.Measurement.Value);
            foreach (var system in group.GroupBy(m => m.System).OrderBy(s => IndexOf(systemOrder, s.Key)))
            {
                var values = system.Select(m => m.Measurement.Value).ToList();
                var ratios = system
                    .Where(m => m.Measurement.Comparable && baselineByRound.TryGetValue(m.Round, out var b) && b != 0)
                    .Select(m => m.Measurement.Value / baselineByRound[m.Round])
                    .ToList();
                rows.Add(new SummaryRow(
                    group.Key.Scenario,
                    group.Key.Metric,
                    system.Key,
                    system.First().Measurement.Unit,
                    Median(values),
                    values.Min(),
                    values.Max(),
                    values.Count,
                    ratios.Count > 0 ? Median(ratios) : null));
            }
        }

        return rows;
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("The median of nothing is undefined.", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static int IndexOf(IReadOnlyList<string> order, string name)
    {
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i] == name)
            {
                return i;
            }
        }

        return order.Count;
    }
}
