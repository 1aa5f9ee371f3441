using FlowOrleans.Client;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Reliability.Soak;

/// <summary>
/// Open, transfer and close churn through one silo: a cluster client dials an echo peer outside the cluster through
/// the silo (a hosted flow on the silo's manager, its bytes carried by grain calls). A cluster of its own, with one
/// silo, so the silo's gauges and the process's footprint belong to this soak alone. The echo peer forgets idle
/// connections after a second, so each round ends with the silo's connection closed.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
[Collection(SoakCollection.Name)]
public sealed class SiloSoakTests(ITestOutputHelper output)
{
    private const int Loops = 4;
    private const int MaxPayload = 64 * 1024;

    [Fact]
    public async Task ChurnThroughOneSiloLeavesHeapHandlesAndThreadsFlat()
    {
        var run = new SoakRun(SoakRun.Duration(TimeSpan.FromSeconds(24)), Loops);
        using var cts = new CancellationTokenSource(run.HangBound + TimeSpan.FromMinutes(1));
        var ct = cts.Token;
        await using var cluster = await ClusterFixture.StartAsync(1);
        var silo = SiloParts.Of(cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress));
        await silo.Started.WaitAsync(ct);
        var flows = new FlowClient(cluster.Client);
        await using var echo = await EchoServer.StartAsync(
            new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("soak-echo"), IdleExpiry = TimeSpan.FromSeconds(1) }), ct);
        IFlowManager[] managers = [silo.Transport.Manager, echo.Manager];

        await run.RunAsync(
            async (random, token) =>
            {
                var sent = SoakPayload.Next(random, MaxPayload);
                await using var flow = await flows.DialAsync(echo.Endpoint, silo.SiloKey, token);
                await flow.WriteAsync(sent, token);
                await flow.CompleteWritesAsync(token);
                using var received = new MemoryStream();
                await flow.CopyToAsync(received, token);
                SoakPayload.Check(sent, received.ToArray());
                return 2L * sent.Length;
            },
            async token =>
            {
                foreach (var connection in managers.SelectMany(m => m.Connections))
                {
                    run.Track(connection);
                }

                await WaitUntilAsync(
                    () => silo.Flows.Count == 0 && managers.All(m => m.Connections.Count == 0),
                    () => $"still held: {silo.Flows.Count} hosted flows, silo connections {managers[0].Connections.Count}, echo connections {managers[1].Connections.Count}",
                    token);
            },
            output.WriteLine,
            ct);

        output.WriteLine($"{run.Exchanges} exchanges, {run.Bytes} payload bytes");
    }
}
