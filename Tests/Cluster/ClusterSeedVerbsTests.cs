using System.Security.Cryptography;
using FlowOrleans.Client;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// The seed API's message reads and writes and cached dials through the cluster (issue 17, item 5), each checked
/// against the Vanadium rule it states, with a plain outside FlowManager as the remote.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class ClusterSeedVerbsTests(ClusterFixture fixture)
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TestTimeout).Token;

    private static FlowManager NewOutsidePeer(string name, int mtu = 64 * 1024) =>
        new(new FlowManagerOptions { Principal = NewPrincipal(name), Connection = new ConnectionOptions { Mtu = mtu } });

    /// <summary>A client flow through silo A to <paramref name="peer"/>, and the peer's side once the client's first message opened it.</summary>
    private async Task<(ClusterFlowStream Client, IFlow Remote)> OpenAsync(FlowManager peer, byte[] first, CancellationToken ct)
    {
        var listener = await peer.ListenAsync("tcp", "127.0.0.1:0", ct);
        var client = await fixture.Flows.DialAsync(listener.Endpoint, fixture.Host(0).SiloKey, ct);
        Assert.Equal(first.Length, await client.WriteMessageAsync(first, ct));
        var remote = await peer.AcceptAsync(ct);
        Assert.Equal(first, await remote.ReadMessageAsync(ct));
        return (client, remote);
    }

    [Fact]
    public async Task MessageWritesAndReadsKeepTheirBoundariesBothWaysThroughTheSilo()
    {
        // Vanadium: WriteMsg sends its buffers as one message and ReadMsg returns exactly one message as the peer wrote it.
        var ct = Timeout();
        await using var peer = NewOutsidePeer("messages");
        var (client, remote) = await OpenAsync(peer, "first"u8.ToArray(), ct);
        await using var _ = client;
        await using var __ = remote;

        var big = RandomNumberGenerator.GetBytes(5000);
        Assert.Equal(1, await client.WriteMessageAsync(new byte[] { 7 }, ct));
        Assert.Equal(5000, await client.WriteMessageAsync(big, ct));
        Assert.Equal(4, await client.WriteMessageAsync(["ab"u8.ToArray(), "cd"u8.ToArray()], ct));
        Assert.Equal(new byte[] { 7 }, await remote.ReadMessageAsync(ct));
        Assert.Equal(big, await remote.ReadMessageAsync(ct));
        Assert.Equal("abcd"u8.ToArray(), await remote.ReadMessageAsync(ct));

        await remote.WriteMessageAsync(["x"u8.ToArray()], ct);
        await remote.WriteMessageAsync([big], ct);
        await remote.WriteMessageAndCloseAsync(["y"u8.ToArray(), "z"u8.ToArray()], ct);
        Assert.Equal("x"u8.ToArray(), await client.ReadMessageAsync(ct));
        Assert.Equal(big, await client.ReadMessageAsync(ct));
        Assert.Equal("yz"u8.ToArray(), await client.ReadMessageAsync(ct));
        Assert.Null(await client.ReadMessageAsync(ct));
    }

    [Fact]
    public async Task AMessageReadAfterAStreamReadReturnsTheRestOfThatMessageThenWholeOnes()
    {
        // As the Transport's (and Vanadium's) reads: a message read after a partial read returns the rest of the message.
        var ct = Timeout();
        await using var peer = NewOutsidePeer("mixed");
        var (client, remote) = await OpenAsync(peer, "open"u8.ToArray(), ct);
        await using var _ = client;
        await using var __ = remote;

        await remote.WriteMessageAsync(["hello"u8.ToArray()], ct);
        await remote.WriteMessageAsync(["world!"u8.ToArray()], ct);
        await remote.WriteMessageAndCloseAsync(["tail"u8.ToArray()], ct);

        var two = new byte[2];
        await client.ReadExactlyAsync(two, ct);
        Assert.Equal("he"u8.ToArray(), two);
        Assert.Equal("llo"u8.ToArray(), await client.ReadMessageAsync(ct));
        Assert.Equal("world!"u8.ToArray(), await client.ReadMessageAsync(ct));
        using var rest = new MemoryStream();
        await client.CopyToAsync(rest, ct);
        Assert.Equal("tail"u8.ToArray(), rest.ToArray());
        Assert.Null(await client.ReadMessageAsync(ct));
    }

    [Fact]
    public async Task FragmentationSplitsAMessageAtThePeersMtuUntilTheClientDisablesIt()
    {
        // Vanadium: a message longer than the MTU goes out in MTU-sized pieces unless the flow disabled fragmentation.
        var ct = Timeout();
        await using var peer = NewOutsidePeer("small-mtu", mtu: 1024);
        var (client, remote) = await OpenAsync(peer, "open"u8.ToArray(), ct);
        await using var _ = client;
        await using var __ = remote;

        var message = RandomNumberGenerator.GetBytes(3000);
        await client.WriteMessageAsync(message, ct);
        var piece = await remote.ReadMessageAsync(ct);
        Assert.NotNull(piece);
        Assert.True(piece.Length < message.Length, $"a {piece.Length}-byte piece");
        var received = new List<byte>(piece);
        while (received.Count < message.Length)
        {
            received.AddRange((await remote.ReadMessageAsync(ct))!);
        }

        Assert.Equal(message, received);

        await client.DisableFragmentationAsync();
        await client.WriteMessageAsync(message, ct);
        Assert.Equal(message, await remote.ReadMessageAsync(ct));
    }

    [Fact]
    public async Task AMessageLargerThanOneGrainCallIsRefusedWithBadArgAndTheFlowStaysUsable()
    {
        var ct = Timeout();
        await using var peer = NewOutsidePeer("too-large");
        var (client, remote) = await OpenAsync(peer, "open"u8.ToArray(), ct);
        await using var _ = client;
        await using var __ = remote;

        var e = await Assert.ThrowsAsync<FlowException>(() => client.WriteMessageAsync(new byte[ClusterFlowStream.MaxChunkSize + 1], ct).AsTask());
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        await client.WriteMessageAsync("after"u8.ToArray(), ct);
        Assert.Equal("after"u8.ToArray(), await remote.ReadMessageAsync(ct));
    }

    [Fact]
    public async Task ACachedDialFailsWithoutACachedConnectionAndReusesOneOnlyForPeersThePatternsAccept()
    {
        // Vanadium's DialCached: only a connection already cached to the remote, whose peer the caller's authorizer
        // accepts, carries the flow; it never dials a new one.
        var ct = Timeout();
        await using var echo = await EchoServer.StartAsync(NewOutsidePeer("cached-echo"), ct);
        var siloB = fixture.Host(1).SiloKey;
        var siloC = fixture.Host(2).SiloKey;

        var none = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.DialCachedAsync(echo.Endpoint, new FlowDialOptions { SiloKey = siloB }, ct));
        Assert.Equal(FlowErrorCode.BadState, none.Code);
        var noSilo = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.DialCachedAsync(echo.Endpoint, cancellationToken: ct));
        Assert.Equal(FlowErrorCode.BadState, noSilo.Code);
        Assert.Empty(echo.Manager.Connections); // nothing was dialed

        await using (var dialed = await fixture.Flows.DialAsync(echo.Endpoint, siloB, ct))
        {
            await WaitUntilAsync(() => echo.Manager.Connections.Count == 1, cancellationToken: ct);
        }

        await using (var cached = await fixture.Flows.DialCachedAsync(echo.Endpoint, new FlowDialOptions { SiloKey = siloB }, ct))
        {
            await cached.WriteAsync("again"u8.ToArray(), ct);
            await cached.CompleteWritesAsync(ct);
            using var echoed = new MemoryStream();
            await cached.CopyToAsync(echoed, ct);
            Assert.Equal("again"u8.ToArray(), echoed.ToArray());
        }

        await using (var found = await fixture.Flows.DialCachedAsync(echo.Endpoint, cancellationToken: ct))
        {
            Assert.Equal(siloB, found.Handle.SiloKey); // the only silo caching a connection to the echo server
        }

        var elsewhere = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.DialCachedAsync(echo.Endpoint, new FlowDialOptions { SiloKey = siloC }, ct));
        Assert.Equal(FlowErrorCode.BadState, elsewhere.Code);
        var refused = await Assert.ThrowsAsync<FlowException>(() =>
            fixture.Flows.DialCachedAsync(echo.Endpoint, new FlowDialOptions { SiloKey = siloB, BlessingPatterns = ["someone-else"] }, ct));
        Assert.Equal(FlowErrorCode.NotTrusted, refused.Code);
        Assert.Single(echo.Manager.Connections); // every cached dial reused the one connection or failed
    }
}
