using System.Collections.Concurrent;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A silo that holds a pin its grain records on another silo lets it go (found by the chaos test: after a partition
/// healed, pins were held by two silos for good, since pin grains check only the silo they record). The sweeps run by
/// hand here: the silos' own period is an hour.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class StrayPinSweepTests
{
    [Fact]
    public async Task APinHeldOnASiloItsGrainDoesNotRecordIsLetGoOnTheSecondSweepAndTheRecordedOneStays()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = cts.Token;
        await using var cluster = await StartClusterAsync();
        var flows = new FlowClient(cluster.Client);
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("stray-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var pin = await flows.PinAsync("stray", listener.Endpoint.ToString(), cancellationToken: ct);
        Assert.Equal(PinStatus.Pinned, pin.Status);

        var owner = cluster.Silos.Single(s => SiloKeys.ToKey(s.SiloAddress) == pin.OwnerSilo);
        var other = cluster.Silos.Single(s => s != owner);
        var ownerPins = cluster.GetSiloServiceProvider(owner.SiloAddress).GetRequiredService<SiloPins>();
        var otherPins = cluster.GetSiloServiceProvider(other.SiloAddress).GetRequiredService<SiloPins>();
        var otherSweep = cluster.GetSiloServiceProvider(other.SiloAddress).GetRequiredService<StrayPinSweep>();
        var ownerSweep = cluster.GetSiloServiceProvider(owner.SiloAddress).GetRequiredService<StrayPinSweep>();

        // What a pin call whose answer was lost leaves behind: the other silo pinned too, and nothing records it.
        await otherPins.PinAsync("stray", pin.Request!, "lost-answer", ct);
        Assert.NotNull(otherPins.Get("stray"));

        Assert.Equal(0, await otherSweep.SweepAsync(ct));
        Assert.NotNull(otherPins.Get("stray"));
        Assert.Equal(1, await otherSweep.SweepAsync(ct));
        Assert.Null(otherPins.Get("stray"));

        // The silo the grain records keeps its pin, however often it sweeps.
        Assert.Equal(0, await ownerSweep.SweepAsync(ct));
        Assert.Equal(0, await ownerSweep.SweepAsync(ct));
        Assert.NotNull(ownerPins.Get("stray"));
        Assert.Equal(PinStatus.Pinned, Assert.Single(await flows.GetPinsAsync(ct)).Status);
    }

    private static Task<InProcessTestCluster> StartClusterAsync() =>
        PinClusterFixture.StartAsync(2, new ConcurrentDictionary<string, (byte[] Data, string ETag)>(), o => o.StrayPinSweepPeriod = TimeSpan.FromHours(1));
}
