using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Scenarios;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// Aggregate bulk through two silos as the number of Orleans clients grows: each client opens
/// <see cref="FlowsPerClient"/> flows through the silos in turn to an outside echo peer (the README's echo server) and
/// writes 64 KiB slices of the payload on each for the run's duration while reading the echo, checking every byte.
/// Throughput counts bytes echoed back to the clients (each of them crossed a silo on the way out and again on the way
/// back); fairness is Jain's index over the flows' echoed bytes at the deadline.
/// <para>
/// No memory figure: with clients, silos and peer in one process, the heap's change across opening the flows is
/// dominated by process-wide buffer pools (the shared array pool and the record pool keep tens of MB after a bulk
/// run and trim them over minutes), which made it read about -130 KB a flow. The idle scenarios measure what a flow
/// costs a manager, each side in its own process.
/// </para>
/// </summary>
internal sealed class ClusterClientsScenario(int clients) : IScenario
{
    public const int FlowsPerClient = 8;

    public string Name => $"scale-clients-{clients}";

    public string Description => $"{clients} Orleans clients × {FlowsPerClient} echoed bulk flows through two silos";

    public bool AppliesTo(IBenchSystem system) => system is TwoSiloSystem;

    // Generous for a first run, which starts the cluster and its client hosts, and for draining hundreds of windows.
    public TimeSpan WatchdogTimeout(ScenarioSettings settings) =>
        settings.WatchdogTimeout + TimeSpan.FromSeconds(30) + (settings.ScaleBulkDuration * 10)
        + (settings.Scaled(clients) * TimeSpan.FromSeconds(2));

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        var count = settings.Scaled(clients);
        var connections = new List<IBenchConnection>(count);
        var echoes = new List<Task>();
        try
        {
            var connecting = Enumerable.Range(0, count).Select(_ => system.ConnectAsync(cancellationToken).AsTask()).ToList();
            try
            {
                await Task.WhenAll(connecting);
            }
            finally
            {
                connections.AddRange(connecting.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result));
            }

            var transfers = new List<OneWayTransfer>(count * FlowsPerClient);
            foreach (var connection in connections)
            {
                for (var i = 0; i < FlowsPerClient; i++)
                {
                    var pair = await connection.OpenFlowPairAsync(cancellationToken);
                    echoes.Add(pair.Client.DisposeIfFailsAsync(PingPong.EchoAsync(pair.Server, cancellationToken)));
                    transfers.Add(new OneWayTransfer(pair.Client, pair.Client));
                }
            }

            var results = await ConcurrentTransfers.MeasureAsync(transfers, settings.ScaleBulkDuration, cancellationToken);
            await Task.WhenAll(echoes);
            return
            [
                new("clients", count, "clients", Comparable: false),
                new("flows", transfers.Count, "flows", Comparable: false),
                .. results,
            ];
        }
        finally
        {
            // Closes every flow, which ends any echo still running.
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }

            await Task.WhenAll(echoes).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }
}
