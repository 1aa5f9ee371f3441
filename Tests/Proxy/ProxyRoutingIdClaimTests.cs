using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using static FlowOrleans.Tests.Proxy.ProxyTestKit;

namespace FlowOrleans.Tests.Proxy;

/// <summary>
/// A proxy files registrations by the routing ID their server claims, and a routing ID is a claim, not an identity
/// (issue 16 item 2): a server with another key never displaces the live registration of the ID's holder, and the ID
/// is free again once the holder leaves.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class ProxyRoutingIdClaimTests
{
    [Fact]
    public async Task AServerClaimingARegisteredRoutingIdNeverDisplacesItsHolderAndGetsItOnlyOnceTheHolderLeaves()
    {
        var (proxy, proxyEndpoint) = await StartProxyAsync();
        await using var _ = proxy;
        await using var alice = NewManager("alice");
        await using var client = NewManager("client");
        var aliceListener = await alice.ProxyListenAsync("p", proxyEndpoint, Anyone(alice)).WaitAsync(TestTimeout);
        await WaitForStatusAsync(alice, s => IsRegistered(s, "p"));

        await using var mallory = new FlowManager(new FlowManagerOptions
        {
            Principal = NewPrincipal("mallory"),
            RoutingId = alice.RoutingId,
            PinBackoffMin = TimeSpan.FromMilliseconds(20),
            PinBackoffMax = TimeSpan.FromMilliseconds(200),
        });
        await mallory.ProxyListenAsync("p", proxyEndpoint, Anyone(mallory)).WaitAsync(TestTimeout);
        var refused = await WaitForStatusAsync(mallory, s => HasFailed(s, "p"));
        Assert.Contains("another key", refused.ProxyErrors["p"]!.Message, StringComparison.Ordinal);

        // Clients of the ID still reach alice, even those that would accept anyone.
        await using (var flow = await client.DialAsync(aliceListener.Endpoint, Anyone(client)).WaitAsync(TestTimeout))
        {
            Assert.Equal(["alice"], flow.RemoteBlessings.Names);
        }

        // Once she leaves, the ID is free: mallory's retries register it (and a client that accepts anyone reaches him).
        await alice.StopListeningAsync().WaitAsync(TestTimeout);
        await WaitForStatusAsync(mallory, s => IsRegistered(s, "p"));
        await using var toMallory = await client.DialAsync(mallory.Status.Endpoints.First(e => e.Routes.Count > 0), Anyone(client)).WaitAsync(TestTimeout);
        Assert.Equal(["mallory"], toMallory.RemoteBlessings.Names);
    }
}
