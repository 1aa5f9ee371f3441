using FlowOrleans.Benchmarks.Running;
using FlowOrleans.Benchmarks.Scenarios;
using FlowOrleans.Benchmarks.Systems;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// What idle connections, or idle flows, cost one manager as their number grows. The server is one
/// <see cref="IdleFlowServer"/> in this process; the clients (one dial-only <c>FlowManager</c> per connection, as
/// separate client programs would have) live in a child process, so each side is measured alone. Stages: a warm-up
/// connection made and closed; a baseline; <c>connections</c> connections, each made by a flow that exchanged a byte
/// and closed, then left idle; and, when <c>flowsPerConnection</c> is above zero, that many flows on each, a byte
/// each way, left open and idle. At each stage both processes collect fully and are measured, then sit idle for the
/// idle window while their CPU time is read. Costs are differences between consecutive stages divided by the count:
/// per connection from the connection stage, per flow from the flow stage.
/// </summary>
internal sealed class IdleScaleScenario(string name, int connections, int flowsPerConnection) : IScenario
{
    public string Name => name;

    public string Description => flowsPerConnection == 0
        ? $"{connections:N0} idle connections on one server manager: memory, descriptors and CPU per connection"
        : $"{connections * flowsPerConnection:N0} idle flows on {connections:N0} connections to one manager: memory and CPU per flow";

    public bool AppliesTo(IBenchSystem system) => system is FlowSystem;

    // Each run warms itself up with a connection of its own before its baseline.
    public bool WarmsUp => false;

    public TimeSpan WatchdogTimeout(ScenarioSettings settings) =>
        settings.WatchdogTimeout
        + (3 * (settings.ScaleSettle + settings.ScaleIdleWindow + TimeSpan.FromSeconds(1)))
        + (settings.Scaled(connections) * TimeSpan.FromMilliseconds(20))
        + (settings.Scaled(connections) * settings.Scaled(flowsPerConnection) * TimeSpan.FromMilliseconds(2));

    public async Task<IReadOnlyList<Measurement>> RunAsync(
        IBenchSystem system, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        var count = settings.Scaled(connections);
        var perConnection = settings.Scaled(flowsPerConnection);
        OpenFileLimit.EnsureRoomFor(count, Name);

        await using var server = await IdleFlowServer.StartAsync(count, cancellationToken);
        await using var client = ScaleClientProcess.Start();
        await client.WarmUpAsync(server.Endpoint, cancellationToken);
        await server.WaitUntilAsync(connections: 0, flows: 0, cancellationToken);
        var baseline = await IdleSnapshot.TakeAsync(client, settings, cancellationToken);

        await client.ConnectAsync(server.Endpoint, count, cancellationToken);
        await server.WaitUntilAsync(count, flows: 0, cancellationToken);
        var connected = await IdleSnapshot.TakeAsync(client, settings, cancellationToken);
        await EnsureIntactAsync(server, client, count, flows: 0, cancellationToken);

        // The counts first, so they lead the scale group's pivot table.
        List<Measurement> results = [Metrics.Connections(count)];
        if (perConnection == 0)
        {
            results.AddRange([.. Costs(baseline, connected, count, "conn"), .. Threads(connected)]);
        }
        else
        {
            await client.OpenFlowsAsync(perConnection, cancellationToken);
            await server.WaitUntilAsync(count, count * perConnection, cancellationToken);
            var withFlows = await IdleSnapshot.TakeAsync(client, settings, cancellationToken);
            await EnsureIntactAsync(server, client, count, count * perConnection, cancellationToken);
            results.Add(new("flows", count * perConnection, "flows", Comparable: false));
            results.AddRange([.. Costs(connected, withFlows, count * perConnection, "flow"), .. Threads(withFlows)]);
        }

        await client.CloseAsync(cancellationToken);
        return results;
    }

    /// <summary>Fails the run if a connection closed while it was measured, on either side.</summary>
    private static async Task EnsureIntactAsync(
        IdleFlowServer server, ScaleClientProcess client, int connections, int flows, CancellationToken cancellationToken)
    {
        server.EnsureStill(connections, flows);
        await client.CheckAsync(connections, cancellationToken);
    }

    /// <summary>
    /// What each of <paramref name="count"/> connections or flows added between two stages, on each side; no peer system
    /// runs these scenarios, so nothing is reported as a ratio.
    /// </summary>
    private static IEnumerable<Measurement> Costs(IdleSnapshot before, IdleSnapshot after, int count, string unit)
    {
        foreach (var (side, was, now, cpuWas, cpuNow) in new[]
        {
            ("server", before.Server, after.Server, before.ServerCpuPerSecond, after.ServerCpuPerSecond),
            ("client", before.Client, after.Client, before.ClientCpuPerSecond, after.ClientCpuPerSecond),
        })
        {
            yield return new($"{side}-heap", (double)(now.HeapBytes - was.HeapBytes) / count, $"B/{unit}", Comparable: false);
            yield return new($"{side}-rss", (double)(now.ResidentBytes - was.ResidentBytes) / count, $"B/{unit}", Comparable: false);
            yield return new($"{side}-fds", (double)(now.OpenFiles - was.OpenFiles) / count, $"fds/{unit}", Comparable: false);
            yield return new($"{side}-cpu", (cpuNow - cpuWas) * 1e6 / count, $"µs/s/{unit}", Comparable: false);
            yield return new($"{side}-cpu-all", cpuNow * 1e3, "ms/s", Comparable: false);
        }
    }

    private static IEnumerable<Measurement> Threads(IdleSnapshot at)
    {
        yield return new("server-threads", at.Server.Threads, "threads", Comparable: false);
        yield return new("client-threads", at.Client.Threads, "threads", Comparable: false);
    }
}
