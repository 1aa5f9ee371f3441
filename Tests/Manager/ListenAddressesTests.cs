using System.Net;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class ListenAddressesTests
{
    private static readonly IPAddress[] Interfaces =
        [IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Parse("10.1.2.3"), IPAddress.Parse("fe80::1"), IPAddress.Parse("2001:db8::5")];

    [Theory]
    [InlineData("tcp", "0.0.0.0:8100", new[] { "10.1.2.3:8100" })]
    [InlineData("tcp4", "0.0.0.0:8100", new[] { "10.1.2.3:8100" })]
    [InlineData("ws", "0.0.0.0:80", new[] { "10.1.2.3:80" })]
    [InlineData("tcp", "[::]:8100", new[] { "10.1.2.3:8100", "[2001:db8::5]:8100" })]
    [InlineData("tcp6", "[::]:8100", new[] { "[2001:db8::5]:8100" })]
    [InlineData("tcp", "10.1.2.3:8100", new[] { "10.1.2.3:8100" })]
    [InlineData("tcp", "127.0.0.1:8100", new[] { "127.0.0.1:8100" })]
    [InlineData("unix", "/tmp/flow.sock", new[] { "/tmp/flow.sock" })]
    public void AnUnspecifiedHostIsPublishedAsEveryUsableInterfaceAddress(string protocol, string bound, string[] expected)
    {
        Assert.Equal(expected, ListenAddresses.Publish(protocol, bound, () => Interfaces));
    }

    [Fact]
    public void LoopbackIsPublishedOnlyWhenNothingElseIsUp()
    {
        Assert.Equal(["127.0.0.1:9"], ListenAddresses.Publish("tcp", "0.0.0.0:9", () => [IPAddress.Loopback, IPAddress.IPv6Loopback]));
        Assert.Equal(["0.0.0.0:9"], ListenAddresses.Publish("tcp", "0.0.0.0:9", () => []));
    }

    [Fact]
    public async Task AManagerListeningOnEveryInterfacePublishesDialableEndpoints()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("any-interface") });
        var listener = await server.ListenAsync("tcp", "0.0.0.0:0", ct);

        Assert.NotEmpty(listener.Endpoints);
        Assert.Equal(listener.Endpoint, listener.Endpoints[0]);
        Assert.All(listener.Endpoints, e => Assert.DoesNotContain("0.0.0.0", e.Address, StringComparison.Ordinal));
        Assert.Equal(listener.Endpoints, server.Status.Endpoints);

        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("dialer") });
        foreach (var endpoint in listener.Endpoints)
        {
            await using var flow = await client.DialAsync(endpoint, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct);
            await flow.WriteAsync("hi"u8.ToArray(), ct);
            await flow.CloseWriteAsync(ct);
            await using var accepted = await server.AcceptAsync(ct);
            Assert.Equal("hi"u8.ToArray(), await ReadToEndAsync(accepted));
        }
    }
}
