using FlowOrleans.Benchmarks.Running;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// Runs many <see cref="OneWayTransfer"/>s at once for a duration, timed until the last reader has read to end of
/// stream: aggregate bulk metrics, and Jain's fairness index over the bytes each flow had delivered when the deadline
/// passed (not over bytes written, which would count what sits in windows).
/// </summary>
internal static class ConcurrentTransfers
{
    public static async Task<IReadOnlyList<Measurement>> MeasureAsync(
        IReadOnlyList<OneWayTransfer> transfers, TimeSpan duration, CancellationToken cancellationToken)
    {
        long[]? sharesAtDeadline = null;
        var meter = ResourceUsage.Start();
        var deadline = new Deadline(duration);
        bool ShouldStop()
        {
            if (!deadline.HasPassed)
            {
                return false;
            }

            // The first writer to see the deadline takes the snapshot.
            if (Volatile.Read(ref sharesAtDeadline) is null)
            {
                Interlocked.CompareExchange(ref sharesAtDeadline, [.. transfers.Select(t => t.Received)], null);
            }

            return true;
        }

        await Task.WhenAll(transfers.Select(t => t.RunAsync(ShouldStop, cancellationToken)));
        var usage = meter.Stop();
        foreach (var transfer in transfers)
        {
            transfer.CheckComplete();
        }

        return
        [
            .. Metrics.Bulk(transfers.Sum(t => t.Received), usage),
            new("fairness", Metrics.JainIndex(sharesAtDeadline!), "jain"),
        ];
    }
}
