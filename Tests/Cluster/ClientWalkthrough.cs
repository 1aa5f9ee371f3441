using System.Security.Cryptography;
using FlowOrleans.Client;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// What the README walkthrough does, from an Orleans client of a Silo program: status, 256 KiB through the silo to an
/// echo server and back, and a flow a peer opened to the silo's printed endpoint accepted by the client.
/// </summary>
internal static class ClientWalkthrough
{
    public static async Task RunAsync(FlowClient flows, SiloProcess silo, CancellationToken ct)
    {
        var status = Assert.Single(await flows.GetStatusAsync(ct));
        Assert.Equal(silo.Endpoints, status.Endpoints.Select(e => e.ToString()));

        // Client -> silo -> outside echo server.
        await using (var echo = await EchoServer.StartAsync(new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("echo") }), ct))
        await using (var dialed = await flows.DialAsync(echo.Endpoint, ct))
        {
            var payload = RandomNumberGenerator.GetBytes(256 * 1024);
            await dialed.WriteAsync(payload, ct);
            await dialed.CompleteWritesAsync(ct);
            using var back = new MemoryStream();
            await dialed.CopyToAsync(back, ct);
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(back.ToArray()));
        }

        // Outside peer -> the endpoint the silo printed -> client.
        await using var acceptor = await flows.ListenAsync();
        await using var peer = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("peer") });
        await using var outbound = await peer.DialAsync(Transport.Endpoints.Endpoint.Parse(silo.Endpoints[0]), PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await outbound.WriteAsync("hi"u8.ToArray(), ct);
        await outbound.CloseWriteAsync(ct);
        await using var accepted = await acceptor.AcceptAsync(ct);
        var buffer = new byte[2];
        await accepted.ReadExactlyAsync(buffer, ct);
        Assert.Equal("hi"u8.ToArray(), buffer);
    }
}
