using System.Security.Cryptography;
using FlowOrleans.Client;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>End to end: the Silo program in its own process, this process as an Orleans client and outside peer.</summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class SiloProcessTests
{
    [Fact]
    public async Task TheSiloProgramPrintsItsEndpointsAndServesAClientInAnotherProcess()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        await using var silo = await SiloProcess.StartAsync(ct);
        var siloEndpoint = Assert.Single(silo.Endpoints);
        Assert.True(Transport.Endpoints.Endpoint.TryParse(siloEndpoint, out _), siloEndpoint);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client
            .UseLocalhostClustering(silo.GatewayPort, serviceId: "flow-orleans", clusterId: silo.ClusterId)
            .AddFlowOrleansMemoryStreams());
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            var flows = new FlowClient(host.Services.GetRequiredService<IClusterClient>());
            var status = Assert.Single(await flows.GetStatusAsync(ct));
            Assert.Equal([siloEndpoint], status.Endpoints.Select(e => e.ToString()));

            // Client -> silo -> outside echo server.
            await using var echo = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("echo") });
            var listener = await echo.ListenAsync("tcp", "127.0.0.1:0", ct);
            var serving = Task.Run(async () =>
            {
                await using var flow = await echo.AcceptAsync(ct);
                var data = await ReadToEndAsync(flow);
                await flow.WriteAsync(data, ct);
                await flow.CloseWriteAsync(ct);
            }, ct);
            var payload = RandomNumberGenerator.GetBytes(256 * 1024);
            await using (var dialed = await flows.DialAsync(listener.Endpoint.ToString(), ct))
            {
                await dialed.WriteAsync(payload, ct);
                await dialed.CompleteWritesAsync(ct);
                using var back = new MemoryStream();
                await dialed.CopyToAsync(back, ct);
                Assert.Equal(SHA256.HashData(payload), SHA256.HashData(back.ToArray()));
            }

            await serving;

            // Outside peer -> the endpoint the silo printed -> client.
            await using var acceptor = await flows.ListenAsync();
            await using var peer = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("peer") });
            await using var outbound = await peer.DialAsync(Transport.Endpoints.Endpoint.Parse(siloEndpoint), PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
            await outbound.WriteAsync("hi"u8.ToArray(), ct);
            await outbound.CloseWriteAsync(ct);
            await using var accepted = await acceptor.AcceptAsync(ct);
            var buffer = new byte[2];
            await accepted.ReadExactlyAsync(buffer, ct);
            Assert.Equal("hi"u8.ToArray(), buffer);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
