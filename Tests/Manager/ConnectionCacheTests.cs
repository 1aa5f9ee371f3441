using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionCacheTests
{
    [Fact]
    public async Task AConnectionFinishingItsHandshakeAfterTheCacheClosedIsRefused()
    {
        await using var peers = await ConnectAsync();
        var cache = new ConnectionCache();
        Assert.Empty(cache.Close());

        // The manager closes the connection it gets back false for; a true here would leak it past the manager's close.
        Assert.False(cache.Add(peers.Dialer, addressKey: null));
        Assert.Empty(cache.Snapshot());
    }

    [Fact]
    public async Task CloseReturnsWhatWasCachedExactlyOnce()
    {
        await using var peers = await ConnectAsync();
        var cache = new ConnectionCache();
        Assert.True(cache.Add(peers.Dialer, addressKey: ("memory", "a")));
        Assert.Equal([peers.Dialer], cache.Close());
        Assert.False(cache.Add(peers.Acceptor, addressKey: null));
        Assert.Equal([peers.Dialer], cache.Snapshot());
    }
}
