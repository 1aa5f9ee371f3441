using System.Net;
using System.Net.Sockets;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowOrleans.Tests.Security;

/// <summary>The client policy's allow-lists on their own: defaults of each profile, names, ports, unix paths.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ClientRequestPolicyTests
{
    private static readonly Dictionary<string, IPAddress[]> Names = new(StringComparer.Ordinal)
    {
        ["peer.example"] = [IPAddress.Parse("203.0.113.7")],
        ["rebind.example"] = [IPAddress.Parse("203.0.113.8"), IPAddress.Parse("169.254.169.254")],
        ["localhost"] = [IPAddress.Loopback],
    };

    private static ClientRequestPolicy Policy(Action<ClientPolicyOptions>? configure = null)
    {
        var options = new ClientPolicyOptions();
        configure?.Invoke(options);
        return new ClientRequestPolicy(
            options,
            (host, _) => Names.TryGetValue(host, out var found) ? Task.FromResult(found) : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)),
            NullLogger.Instance);
    }

    private static Task<Endpoint> DialAsync(ClientRequestPolicy policy, string protocol, string address) =>
        policy.CheckDialAsync(Endpoint.Create(protocol, address), CancellationToken.None);

    [Theory]
    [InlineData("tcp", "203.0.113.7:8100")]
    [InlineData("tcp4", "10.0.0.5:443")]
    [InlineData("tcp6", "[2001:db8::1]:8100")]
    [InlineData("", "198.51.100.1:1")]
    public async Task ProductionDialsReachOrdinaryAddressesOverTcp(string protocol, string address)
    {
        var target = await DialAsync(Policy(), protocol, address);
        Assert.Equal(IPEndPoint.Parse(address).ToString(), target.Address);
    }

    [Theory]
    [InlineData("tcp", "127.0.0.1:8100")]
    [InlineData("tcp", "127.8.9.10:8100")]
    [InlineData("tcp", "[::1]:8100")]
    [InlineData("tcp", "0.0.0.0:8100")]
    [InlineData("tcp", "[::]:8100")]
    [InlineData("tcp", "169.254.169.254:80")]
    [InlineData("tcp", "[::ffff:127.0.0.1]:80")]
    [InlineData("tcp", "[fe80::1]:80")]
    [InlineData("tcp", "[fd00:ec2::254]:80")]
    [InlineData("tcp", "100.100.100.200:80")]
    [InlineData("tcp", "168.63.129.16:80")]
    [InlineData("tcp", "localhost:8100")]
    [InlineData("tcp", "rebind.example:8100")]
    [InlineData("tcp", "203.0.113.7:0")]
    [InlineData("ws", "203.0.113.7:80")]
    [InlineData("wsh", "203.0.113.7:80")]
    [InlineData("unix", "/tmp/socket")]
    [InlineData("memory", "anything")]
    [InlineData("tcp", "no-port")]
    public async Task ProductionRefusesHostAndMetadataAddressesOtherProtocolsAndUnix(string protocol, string address)
    {
        var e = await Assert.ThrowsAsync<FlowException>(() => DialAsync(Policy(), protocol, address));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public async Task AHostNameIsDialedAtTheAddressThatWasChecked()
    {
        var target = await DialAsync(Policy(), "tcp", "peer.example:8100");
        Assert.Equal("203.0.113.7:8100", target.Address);
        var e = await Assert.ThrowsAsync<FlowException>(() => DialAsync(Policy(), "tcp", "unknown.example:8100"));
        Assert.Equal(FlowErrorCode.DialFailed, e.Code);
    }

    [Fact]
    public async Task DevelopmentAllowsLoopbackButStillNotMetadata()
    {
        var development = Policy(o => o.Profile = PolicyProfile.Development);
        Assert.Equal("127.0.0.1:8100", (await DialAsync(development, "tcp", "localhost:8100")).Address);
        Assert.Equal("[::1]:8100", (await DialAsync(development, "tcp", "[::1]:8100")).Address);
        await Assert.ThrowsAsync<FlowException>(() => DialAsync(development, "tcp", "169.254.169.254:80"));
        await Assert.ThrowsAsync<FlowException>(() => DialAsync(development, "tcp", "0.0.0.0:8100"));
        development.CheckListen(new ListenAddress("tcp", "127.0.0.1:0"));
        Assert.Throws<FlowException>(() => development.CheckListen(new ListenAddress("tcp", "0.0.0.0:8100")));
    }

    [Fact]
    public async Task ConfiguredRulesReplaceTheDefaults()
    {
        var policy = Policy(o =>
        {
            o.Dial.Protocols = ["tcp", "ws"];
            o.Dial.Networks = ["10.0.0.0/8"];
            o.Dial.DeniedNetworks = ["10.9.0.0/16"];
            o.Dial.Ports = ["8100", "9000-9010"];
        });
        Assert.Equal("10.1.2.3:9005", (await DialAsync(policy, "ws", "10.1.2.3:9005")).Address);
        await Assert.ThrowsAsync<FlowException>(() => DialAsync(policy, "tcp", "10.9.1.1:8100"));
        await Assert.ThrowsAsync<FlowException>(() => DialAsync(policy, "tcp", "10.1.2.3:9011"));
        await Assert.ThrowsAsync<FlowException>(() => DialAsync(policy, "tcp", "203.0.113.7:8100"));
    }

    [Fact]
    public async Task AddresslessEndpointsPassBecauseTheyReachOnlyHeldConnections()
    {
        var endpoint = Endpoint.ForRoutingId(RoutingId.NewRandom());
        Assert.Same(endpoint, await Policy().CheckDialAsync(endpoint, CancellationToken.None));
    }

    [Fact]
    public void ProductionRefusesEveryListenUnlessConfigured()
    {
        var production = Policy();
        foreach (var address in new[] { "tcp/127.0.0.1:0", "tcp/0.0.0.0:8100", "ws/127.0.0.1:80", "unix//tmp/x.sock" })
        {
            Assert.Equal(FlowErrorCode.NotTrusted, Assert.Throws<FlowException>(() => production.CheckListen(ListenAddress.Parse(address))).Code);
        }

        var configured = Policy(o =>
        {
            o.Listen.Protocols = ["tcp"];
            o.Listen.Networks = ["10.0.0.0/8"];
            o.Listen.Ports = ["8200"];
            o.Listen.UnixDirectory = "/run/flow";
        });
        configured.CheckListen(ListenAddress.Parse("tcp/10.1.1.1:8200"));
        configured.CheckListen(ListenAddress.Parse("unix//run/flow/app.sock"));
        Assert.Throws<FlowException>(() => configured.CheckListen(ListenAddress.Parse("tcp/10.1.1.1:8201")));
        Assert.Throws<FlowException>(() => configured.CheckListen(ListenAddress.Parse("tcp/localhost:8200")));
        Assert.Throws<FlowException>(() => configured.CheckListen(ListenAddress.Parse("unix//run/flow/../secrets/app.sock")));
        Assert.Throws<FlowException>(() => configured.CheckListen(ListenAddress.Parse("unix//run/flowers/app.sock")));
        Assert.Throws<FlowException>(() => configured.CheckListen(ListenAddress.Parse("unix//run/flow")));
        Assert.Throws<FlowException>(() => configured.CheckListen(ListenAddress.Parse("unix/relative.sock")));
    }
}
