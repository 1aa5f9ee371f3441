using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Reliability.Soak;

/// <summary>
/// Open, transfer and close churn on one pair of managers over tcp loopback. Both forget idle connections after a
/// second, so every round ends with the connection closed and the next one dials a new one: the soak churns
/// connections (sockets, handshakes, loops) as well as flows.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
[Collection(SoakCollection.Name)]
public sealed class ManagerSoakTests(ITestOutputHelper output)
{
    private const int Loops = 6;
    private const int MaxPayload = 256 * 1024;
    private static readonly TimeSpan IdleExpiry = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ChurnOnOneManagerPairLeavesHeapHandlesAndThreadsFlat()
    {
        var run = new SoakRun(SoakRun.Duration(TimeSpan.FromSeconds(24)), Loops);
        using var cts = new CancellationTokenSource(run.HangBound);
        var ct = cts.Token;
        await using var echo = await EchoServer.StartAsync(
            new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("soak-echo"), IdleExpiry = IdleExpiry }), ct);
        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("soak-client"), IdleExpiry = IdleExpiry });
        var authorizer = PeerAuthorizers.AllowEveryone(client.Principal);
        FlowManager[] managers = [client, echo.Manager];

        await run.RunAsync(
            async (random, token) =>
            {
                var sent = SoakPayload.Next(random, MaxPayload);
                await using var flow = await client.DialAsync(echo.Listener.Endpoint, authorizer, cancellationToken: token);
                run.Track(flow.Connection);
                await flow.WriteAsync(sent, token);
                await flow.CloseWriteAsync(token);
                SoakPayload.Check(sent, await ReadToEndAsync(flow, token));
                return 2L * sent.Length;
            },
            async token =>
            {
                foreach (var connection in managers.SelectMany(m => m.Connections))
                {
                    run.Track(connection);
                }

                await WaitUntilAsync(
                    () => managers.All(m => m.Connections.Count == 0),
                    () => $"connections still cached: client {client.Connections.Count}, echo {echo.Manager.Connections.Count}",
                    token);
            },
            output.WriteLine,
            ct);

        output.WriteLine($"{run.Exchanges} exchanges, {run.Bytes} payload bytes");
    }
}
