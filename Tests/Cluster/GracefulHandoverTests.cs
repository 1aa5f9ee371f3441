using System.Collections.Concurrent;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A silo stopped gracefully (as on SIGTERM) lame-ducks its connections and hands its pins to other silos before it
/// leaves. Each test runs a three-silo cluster of its own, since it stops and replaces silos.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class GracefulHandoverTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task AStoppingSiloHandsEveryPinToAnotherSiloBeforeItLeavesAndLameDucksItsPeers()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var ct = cts.Token;
        await using var cluster = await StartClusterAsync();
        var flows = new FlowClient(cluster.Client);
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("handover-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var names = Enumerable.Range(0, 12).Select(i => $"handover-{i}").ToArray();
        foreach (var name in names)
        {
            Assert.Equal(PinStatus.Pinned, (await flows.PinAsync(name, listener.Endpoint.ToString(), cancellationToken: ct)).Status);
        }

        // The busiest owner other than the first silo, which the test cluster keeps as its anchor.
        var pins = await flows.GetPinsAsync(ct);
        var victim = cluster.Silos.Skip(1).OrderByDescending(s => pins.Count(p => p.OwnerSilo == SiloKeys.ToKey(s.SiloAddress))).First();
        var victimKey = SiloKeys.ToKey(victim.SiloAddress);
        var moving = pins.Where(p => p.OwnerSilo == victimKey).Select(p => p.Name).ToArray();
        Assert.NotEmpty(moving);

        // A peer with a connection to the stopping silo, which must hear lame duck before the connection closes.
        var victimParts = SiloParts.Of(cluster.GetSiloServiceProvider(victim.SiloAddress));
        await using var peer = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("handover-peer") });
        var flow = await peer.DialAsync(victimParts.Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await flow.WriteAsync(new byte[] { 1 }, ct);
        var connection = Assert.IsType<ManagedConnection>(Assert.Single(peer.Connections));
        Assert.False(connection.IsRemoteLameDuck);

        // Established on the silo's side too: the peer's dial returns before the silo has filed the connection, and a
        // stop that began in between would not find it among the connections it puts into lame duck (failed once
        // with a core kept busy).
        await WaitUntilAsync(() => victimParts.Transport.Manager.Connections.Any(c => c.RemoteEndpoint.RoutingId == peer.RoutingId), cancellationToken: ct);

        var survivors = cluster.Silos.Where(s => s != victim).ToArray();
        await using var sampler = new PinDowntimeSampler(names, cluster.Silos.Select(s => (SiloKeys.ToKey(s.SiloAddress), PinsOf(cluster, s))));
        sampler.Leaving(victimKey);
        await cluster.StopSiloAsync(victim);

        // By the time the stop completed, not eventually: the survivors hold every pin, and none was ever unheld.
        Assert.All(names, name => Assert.Contains(survivors, s => PinsOf(cluster, s).Get(name) is not null));
        await WaitUntilAsync(() => sampler.Samples > 0, cancellationToken: ct);
        Assert.All(sampler.Downtime, d => Assert.Equal(TimeSpan.Zero, d));
        Assert.True(connection.IsRemoteLameDuck);

        var after = await flows.GetPinsAsync(ct);
        Assert.All(after, p => Assert.Equal(PinStatus.Pinned, p.Status));
        Assert.All(after, p => Assert.NotEqual(victimKey, p.OwnerSilo));
        Assert.All(after.Where(p => moving.Contains(p.Name)), p => Assert.Equal(1, p.Moves));
        Assert.All(after.Where(p => !moving.Contains(p.Name)), p => Assert.Equal(0, p.Moves));
    }

    [Fact]
    public async Task ARollingRestartOfEverySiloKeepsEveryPinHeld()
    {
        var (downtime, longest, samples) = await RollingRestartAsync(graceful: true);
        Report("graceful hand-over", downtime, longest, samples);
        Assert.All(downtime, d => Assert.Equal(TimeSpan.Zero, d));
    }

    [Fact]
    public async Task ARollingKillOfEverySiloLosesPinsUntilMembershipMovesThem()
    {
        // The comparison: killed silos hand nothing over; their pins come back once membership declares them dead.
        var (downtime, longest, samples) = await RollingRestartAsync(graceful: false);
        Report("kill, no hand-over", downtime, longest, samples);
        Assert.Contains(downtime, d => d > TimeSpan.Zero);
    }

    private const int RollingPins = 50;

    /// <summary>
    /// Replaces each of the three silos in turn (a new one starts, then the old one stops or is killed) while
    /// <see cref="RollingPins"/> pins are held, and returns what the sampler saw.
    /// </summary>
    private static async Task<(IReadOnlyList<TimeSpan> Downtime, IReadOnlyList<TimeSpan> Longest, long Samples)> RollingRestartAsync(bool graceful)
    {
        using var cts = new CancellationTokenSource(Timeout * 2);
        var ct = cts.Token;
        await using var cluster = await StartClusterAsync();
        var flows = new FlowClient(cluster.Client);
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("rolling-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var names = Enumerable.Range(0, RollingPins).Select(i => $"rolling-{i}").ToArray();
        await Task.WhenAll(names.Select(name => flows.PinAsync(name, listener.Endpoint.ToString(), cancellationToken: ct)));

        await using var sampler = new PinDowntimeSampler(names, cluster.Silos.Select(s => (SiloKeys.ToKey(s.SiloAddress), PinsOf(cluster, s))));
        await WaitUntilAsync(() => sampler.Samples > 0 && sampler.AllHeld, cancellationToken: ct);
        foreach (var old in cluster.Silos.ToArray())
        {
            var fresh = await cluster.StartAdditionalSiloAsync();
            await cluster.WaitForLivenessToStabilizeAsync();
            await SiloParts.Of(cluster.GetSiloServiceProvider(fresh.SiloAddress)).Started;
            sampler.Add(SiloKeys.ToKey(fresh.SiloAddress), PinsOf(cluster, fresh));
            var oldKey = SiloKeys.ToKey(old.SiloAddress);
            if (graceful)
            {
                sampler.Leaving(oldKey);
                await cluster.StopSiloAsync(old);
                sampler.Remove(oldKey);
            }
            else
            {
                sampler.Remove(oldKey);
                await cluster.KillSiloAsync(old);
            }

            // The next silo goes only once every pin is held again, as a rolling restart waits for readiness.
            var seen = sampler.Samples;
            await WaitUntilAsync(() => sampler.Samples > seen + 1 && sampler.AllHeld, cancellationToken: ct);
        }

        return (sampler.Downtime, sampler.LongestOutage, sampler.Samples);
    }

    private static void Report(string how, IReadOnlyList<TimeSpan> downtime, IReadOnlyList<TimeSpan> longest, long samples)
    {
        var line = $"Rolling restart of 3 silos, {downtime.Count} pins, {how}: " +
            $"pins ever down {downtime.Count(d => d > TimeSpan.Zero)}, " +
            $"max downtime per pin {downtime.Max().TotalMilliseconds:F0} ms, " +
            $"mean downtime per pin {downtime.Average(d => d.TotalMilliseconds):F0} ms, " +
            $"total downtime {downtime.Sum(d => d.TotalMilliseconds):F0} ms, " +
            $"longest single outage {longest.Max().TotalMilliseconds:F0} ms ({samples} samples)";
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Console.WriteLine(line);
    }

    private static SiloPins PinsOf(InProcessTestCluster cluster, InProcessSiloHandle silo) =>
        cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<SiloPins>();

    private static Task<InProcessTestCluster> StartClusterAsync() =>
        PinClusterFixture.StartAsync(3, new ConcurrentDictionary<string, (byte[] Data, string ETag)>(), o => o.PinCheckPeriod = TimeSpan.FromMilliseconds(200));
}
