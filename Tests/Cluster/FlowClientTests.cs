using System.Security.Cryptography;
using FlowOrleans.Client;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

[Trait(TestKinds.Name, TestKinds.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class FlowClientTests(ClusterFixture fixture)
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TestTimeout).Token;

    private static FlowManager NewOutsidePeer(string name) => new(new FlowManagerOptions { Principal = NewPrincipal(name) });

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken ct)
    {
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, ct);
        return received.ToArray();
    }

    /// <summary>Sends <paramref name="size"/> random bytes on <paramref name="flow"/>, closes writing, and checks the echo.</summary>
    private static async Task AssertEchoesAsync(Stream flow, int size, CancellationToken ct)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        await flow.WriteAsync(data, ct);
        if (flow is ClusterFlowStream cluster)
        {
            await cluster.CompleteWritesAsync(ct);
        }

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await ReadAllAsync(flow, ct)));
    }

    [Fact]
    public async Task EverySiloListensAndStatusShowsItsEndpoints()
    {
        var ct = Timeout();
        var silos = await fixture.Flows.GetSilosAsync(ct);
        Assert.Equal(3, silos.Count);
        var status = await fixture.Flows.GetStatusAsync(ct);
        Assert.Equal(silos, status.Select(s => s.SiloKey).Order(StringComparer.Ordinal));
        Assert.All(status, s => Assert.Single(s.Endpoints));
        Assert.Equal(3, status.Select(s => s.RoutingId).Distinct().Count());
        for (var i = 0; i < 3; i++)
        {
            var host = fixture.Host(i);
            Assert.Equal(host.Endpoints, status.Single(s => s.SiloKey == host.SiloKey).Endpoints);
        }
    }

    [Fact]
    public async Task AClientDialsAnEchoServerOutsideTheClusterAndGetsOneMebibyteBackIntact()
    {
        var ct = Timeout();
        await using var echo = await EchoServer.StartAsync(NewOutsidePeer("echo"), ct);
        await using var flow = await fixture.Flows.DialAsync(echo.Endpoint, fixture.Host(1).SiloKey, ct);
        Assert.Equal(fixture.Host(1).SiloKey, flow.Handle.SiloKey);
        Assert.Equal(echo.Manager.RoutingId, flow.Handle.RemoteEndpoint.RoutingId);
        await AssertEchoesAsync(flow, 1024 * 1024, ct);
    }

    [Fact]
    public async Task AnOutsidePeerDialsSiloBAndAClientAcceptsAndTalksToIt()
    {
        var ct = Timeout();
        await using var acceptor = await fixture.Flows.ListenAsync();
        var siloB = fixture.Host(1);
        await using var peer = NewOutsidePeer("peer");
        await using var outbound = await peer.DialAsync(siloB.Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await outbound.WriteAsync("hello"u8.ToArray(), ct);
        await outbound.CloseWriteAsync(ct);

        await using var accepted = await acceptor.AcceptAsync(ct);
        Assert.Equal(siloB.SiloKey, accepted.Handle.SiloKey);
        Assert.Equal(peer.RoutingId, accepted.Handle.RemoteEndpoint.RoutingId);
        Assert.Equal("hello"u8.ToArray(), await ReadAllAsync(accepted, ct));
        await accepted.WriteAsync("world"u8.ToArray(), ct);
        await accepted.CompleteWritesAsync(ct);
        Assert.Equal("world"u8.ToArray(), await ReadToEndAsync(outbound));
    }

    [Fact]
    public async Task AcceptAllYieldsFlowsFromEverySilo()
    {
        var ct = Timeout();
        await using var acceptor = await fixture.Flows.ListenAsync();
        await using var peer = NewOutsidePeer("peer");
        var outbound = new List<IFlow>();
        for (var i = 0; i < 3; i++)
        {
            var flow = await peer.DialAsync(fixture.Host(i).Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
            await flow.WriteAsync(new[] { (byte)i }, ct);
            outbound.Add(flow);
        }

        var silos = new HashSet<string>();
        await foreach (var accepted in acceptor.AcceptAllAsync(ct))
        {
            await using (accepted)
            {
                var buffer = new byte[1];
                Assert.Equal(1, await accepted.ReadAsync(buffer, ct));
                Assert.Equal(fixture.Host(buffer[0]).SiloKey, accepted.Handle.SiloKey);
                silos.Add(accepted.Handle.SiloKey);
            }

            if (silos.Count == 3)
            {
                break;
            }
        }

        foreach (var flow in outbound)
        {
            await flow.DisposeAsync();
        }
    }

    [Fact]
    public async Task ASlowClientKeepsTheSiloBufferBoundedAndStillGetsEveryByte()
    {
        var ct = Timeout();
        await using var acceptor = await fixture.Flows.ListenAsync();
        var silo = fixture.Host(2);
        await using var peer = NewOutsidePeer("fast-writer");
        await using var outbound = await peer.DialAsync(silo.Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        var data = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        long written = 0;
        await outbound.WriteAsync(data.AsMemory(0, 1), ct);
        var writer = Task.Run(async () =>
        {
            for (var offset = 1; offset < data.Length; offset += 64 * 1024)
            {
                var chunk = data.AsMemory(offset, Math.Min(64 * 1024, data.Length - offset));
                await outbound.WriteAsync(chunk, ct);
                Interlocked.Add(ref written, chunk.Length);
            }

            await outbound.CloseWriteAsync(ct);
        }, ct);

        await using var accepted = await acceptor.AcceptAsync(ct);
        var hosted = silo.Flows.Single(f => f.Handle.FlowId == accepted.Handle.FlowId);

        // The client has not read: the silo fills its read-ahead and stops reading; the peer runs out of credit.
        await WaitUntilAsync(() => hosted.BufferedChunks >= ClusterFixture.ReadAheadChunks, cancellationToken: ct);

        // Nothing signals "the writer is blocked"; give it time to overrun, then check it did not.
        await Task.WhenAny(writer, Task.Delay(500, ct));
        Assert.False(writer.IsCompleted);
        Assert.True(hosted.BufferedChunks <= ClusterFixture.ReadAheadChunks);
        var bound = 4 * 1024 * 1024 + (ClusterFixture.ReadAheadChunks + 2) * 64 * 1024;
        Assert.True(Interlocked.Read(ref written) <= bound, $"{written} bytes written past a silo that buffers at most {bound}");

        var received = await ReadAllAsync(accepted, ct);
        await writer;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public async Task DialingAMalformedEndpointFailsWithBadArg()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Flows.DialAsync("not an endpoint", fixture.Host(0).SiloKey, Timeout()));
        var flow = Assert.IsType<FlowException>(e);
        Assert.Equal(FlowErrorCode.BadArg, flow.Code);
    }

    [Fact]
    public async Task ClosedFlowsAreForgottenBySilo()
    {
        var ct = Timeout();
        await using var server = NewOutsidePeer("echo");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var flow = await fixture.Flows.DialAsync(listener.Endpoint.ToString(), fixture.Host(0).SiloKey, ct);
        Assert.Contains(fixture.Host(0).Flows, f => f.Handle.FlowId == flow.Handle.FlowId);
        await flow.DisposeAsync();
        Assert.DoesNotContain(fixture.Host(0).Flows, f => f.Handle.FlowId == flow.Handle.FlowId);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Flows.GetSilo(flow.Handle.SiloKey).WriteAsync(flow.Grant, new byte[] { 1 }));
        Assert.Equal(FlowErrorCode.BadArg, Assert.IsType<FlowException>(e).Code);
    }

    [Fact]
    public async Task APeerThatDialedInToSiloCIsReachedByRoutingIdAndForgottenWhenItLeaves()
    {
        var ct = Timeout();
        await using var acceptor = await fixture.Flows.ListenAsync();
        var siloC = fixture.Host(2);
        var peer = NewOutsidePeer("dialed-in");
        await using (peer)
        {
            var outbound = await peer.DialAsync(siloC.Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
            await outbound.WriteAsync(new byte[] { 1 }, ct);
            await using (await acceptor.AcceptAsync(ct))
            {
                // The silo registers the connection before it announces the flow.
                var holders = await fixture.Cluster.Client.GetGrain<GrainInterfaces.IRoutingIdGrain>(peer.RoutingId.ToString()).LookupAsync([]);
                Assert.Equal(siloC.SiloKey, Assert.Single(holders).SiloKey);

                await using var back = await fixture.Flows.DialRoutingIdAsync(peer.RoutingId.ToString(), cancellationToken: ct);
                Assert.Equal(siloC.SiloKey, back.Handle.SiloKey);
                await back.WriteAsync("ping"u8.ToArray(), ct);
                await back.CompleteWritesAsync(ct);
                await using var atPeer = await peer.AcceptAsync(ct);
                Assert.Equal("ping"u8.ToArray(), await ReadToEndAsync(atPeer));
            }
        }

        // The peer closed its manager: the connection drops and silo C unregisters it.
        var grain = fixture.Cluster.Client.GetGrain<GrainInterfaces.IRoutingIdGrain>(peer.RoutingId.ToString());
        while ((await grain.LookupAsync([])).Count != 0)
        {
            await Task.Delay(20, ct);
        }

        var e = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.DialRoutingIdAsync(peer.RoutingId.ToString(), cancellationToken: ct));
        Assert.Equal(FlowErrorCode.DialFailed, e.Code);
    }

    [Fact]
    public async Task AFlowItsCallerAbandonedIsClosedWhenItsLeaseRunsOut()
    {
        var ct = Timeout();
        await using var server = NewOutsidePeer("lease-server");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var host = fixture.Host(1);

        // Dialed through the bare grain, with no ClusterFlowStream renewing it: a caller that went away.
        var silo = fixture.Flows.GetSilo(host.SiloKey);
        var held = await silo.DialAsync(listener.Endpoint, [], TimeSpan.Zero, ct);
        var handle = held.Handle;
        Assert.Equal(ClusterFixture.FlowLeaseTimeout, handle.LeaseTimeout);
        await silo.WriteAsync(held.Grant, new byte[] { 7 }, ct);
        await using var atServer = await server.AcceptAsync(ct);
        Assert.Equal(7, await ReadByteAsync(atServer, ct));

        await WaitUntilAsync(() => host.Flows.All(f => f.Handle.FlowId != handle.FlowId), cancellationToken: ct);

        // Closed on the silo, so the peer sees the flow end rather than wait for bytes forever.
        var buffer = new byte[1];
        try
        {
            Assert.Equal(0, await atServer.ReadAsync(buffer, ct));
        }
        catch (FlowException e)
        {
            Assert.Equal(FlowErrorCode.Aborted, e.Code);
        }

        Assert.Equal(handle.FlowId, Assert.Single(await silo.RenewAsync([held.Grant])));
    }

    [Fact]
    public async Task AnIdleClusterFlowStreamRenewsItsLeaseAndStaysUsable()
    {
        var ct = Timeout();
        await using var echo = await EchoServer.StartAsync(NewOutsidePeer("idle-echo"), ct);
        var host = fixture.Host(2);
        await using var flow = await fixture.Flows.DialAsync(echo.Endpoint, host.SiloKey, ct);

        // Three leases without a read or a write: only the stream's renewals keep the flow.
        await Task.Delay(ClusterFixture.FlowLeaseTimeout * 3, ct);
        Assert.Contains(host.Flows, f => f.Handle.FlowId == flow.Handle.FlowId);
        await AssertEchoesAsync(flow, 100_000, ct);
    }

    [Fact]
    public async Task ASiloSideCallerGetsTheSameApiFromTheSilosServices()
    {
        var ct = Timeout();
        await using var echo = await EchoServer.StartAsync(NewOutsidePeer("silo-side-echo"), ct);

        // What a grain or hosted service on silo B gets injected.
        var siloServices = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[1].SiloAddress);
        var flows = (FlowClient)siloServices.GetService(typeof(FlowClient))!;
        Assert.NotNull(flows);
        Assert.Equal(3, (await flows.GetSilosAsync(ct)).Count);

        await using (var flow = await flows.DialAsync(echo.Endpoint, ct))
        {
            await AssertEchoesAsync(flow, 70_000, ct);
        }

        await using var acceptor = await flows.ListenAsync();
        await using var peer = NewOutsidePeer("silo-side-dialer");
        var outbound = await peer.DialAsync(fixture.Host(0).Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await outbound.WriteAsync("hello"u8.ToArray(), ct);
        await outbound.CloseWriteAsync(ct);
        await using var accepted = await acceptor.AcceptAsync(ct);
        Assert.Equal("hello"u8.ToArray(), await ReadAllAsync(accepted, ct));
    }

    [Fact]
    public async Task ACancelledWriteReleasesTheFlowOnTheSilo()
    {
        var ct = Timeout();
        await using var server = NewOutsidePeer("never-reads");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        await using var flow = await fixture.Flows.DialAsync(listener.Endpoint.ToString(), fixture.Host(0).SiloKey, ct);

        // The peer never reads, so the window fills and the silo's write waits for credit until the caller gives up.
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        giveUp.CancelAfter(TimeSpan.FromSeconds(1));
        var big = new byte[ClusterFlowStream.MaxChunkSize];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            while (true)
            {
                await flow.WriteAsync(big, giveUp.Token);
            }
        });

        // The cancelled write let go of the flow's writer on the silo: closing the write side goes through.
        await flow.CompleteWritesAsync(ct);
    }

    private static async Task<int> ReadByteAsync(IFlow flow, CancellationToken ct)
    {
        var one = new byte[1];
        return await flow.ReadAsync(one, ct) == 1 ? one[0] : -1;
    }

    [Fact]
    public async Task ACancelledReadLosesNoBytes()
    {
        var ct = Timeout();
        await using var server = NewOutsidePeer("late-writer");
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        await using var flow = await fixture.Flows.DialAsync(listener.Endpoint.ToString(), fixture.Host(0).SiloKey, ct);
        await flow.WriteAsync("hi"u8.ToArray(), ct);
        await using var atServer = await server.AcceptAsync(ct);

        // Nothing to read yet: the read gives up, but its pull from the silo stays pending.
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        giveUp.CancelAfter(TimeSpan.FromMilliseconds(300));
        var buffer = new byte[16];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await flow.ReadAsync(buffer, giveUp.Token));

        // What arrives next is read by the next read, not lost with the abandoned one.
        await atServer.WriteAsync("after"u8.ToArray(), ct);
        await atServer.CloseWriteAsync(ct);
        Assert.Equal("after"u8.ToArray(), await ReadAllAsync(flow, ct));
    }
}
