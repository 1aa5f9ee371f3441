using System.Collections.Immutable;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Endpoints;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// The membership watcher on a membership the test scripts: which silos count as newly dead, and that a death purges
/// the dead silo's routing-ID registrations through the shared cluster's grains (no silo has to die for it).
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class MembershipWatcherTests(ClusterFixture fixture)
{
    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    private static ClusterMembershipSnapshot Snapshot(long version, params (SiloAddress Silo, SiloStatus Status)[] members) =>
        new(members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())), new MembershipVersion(version));

    [Fact]
    public void OnlySilosThatTurnedDeadSinceThePreviousSnapshotCount()
    {
        var (a, b, c) = (Silo(1), Silo(2), Silo(3));
        var before = Snapshot(1, (a, SiloStatus.Active), (b, SiloStatus.Active));
        var after = Snapshot(2, (a, SiloStatus.Active), (b, SiloStatus.Dead), (c, SiloStatus.Joining));
        Assert.Equal([SiloKeys.ToKey(b)], MembershipWatcher.NewlyDead(before, after));
        Assert.Empty(MembershipWatcher.NewlyDead(after, Snapshot(3, (a, SiloStatus.Active), (b, SiloStatus.Dead), (c, SiloStatus.Active))));
    }

    [Fact]
    public async Task ADeathPurgesTheDeadSilosRoutingRegistrations()
    {
        var ct = new CancellationTokenSource(TestTimeout).Token;
        var grains = fixture.SiloGrains(0);
        var dead = Silo(40001);
        var deadKey = SiloKeys.ToKey(dead);
        var routingId = RoutingId.NewRandom();
        await grains.GetGrain<ISiloRoutesGrain>(deadKey).AddAsync(routingId.ToString());
        await grains.GetRoutingIdGrain(routingId).RegisterAsync(deadKey, new RoutingIdPeer([Endpoint.ForRoutingId(routingId)], "peer-key", []));

        var membership = new ScriptedMembership(Snapshot(1, (dead, SiloStatus.Active)));
        var options = Options.Create(new FlowOrleansOptions { EnsurePinsOnStart = false });
        using var watcher = new MembershipWatcher(
            membership, grains, options, new TestSiloDetails(fixture.Cluster.Silos[0].SiloAddress), TimeProvider.System, NullLogger<MembershipWatcher>.Instance);
        var lifecycle = new RecordingLifecycle();
        watcher.Participate(lifecycle);
        await lifecycle.StartAsync(ct);

        // Only once the watcher took its first snapshot and listens does the death count as a change.
        await membership.Watched.WaitAsync(ct);
        membership.Publish(Snapshot(2, (dead, SiloStatus.Dead)));
        while ((await grains.GetGrain<ISiloRoutesGrain>(deadKey).ListAsync()).Count != 0)
        {
            await Task.Delay(20, ct);
        }

        await lifecycle.StopAsync(ct);
    }

    /// <summary>Membership whose updates the test publishes.</summary>
    private sealed class ScriptedMembership(ClusterMembershipSnapshot initial) : IClusterMembershipService
    {
        private readonly Channel<ClusterMembershipSnapshot> _updates = Channel.CreateUnbounded<ClusterMembershipSnapshot>();
        private readonly TaskCompletionSource _watched = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when someone starts reading the updates.</summary>
        public Task Watched => _watched.Task;

        public ClusterMembershipSnapshot CurrentSnapshot { get; private set; } = initial;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => ReadUpdatesAsync();

        public void Publish(ClusterMembershipSnapshot snapshot)
        {
            CurrentSnapshot = snapshot;
            _updates.Writer.TryWrite(snapshot);
        }

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);

        private async IAsyncEnumerable<ClusterMembershipSnapshot> ReadUpdatesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            _watched.TrySetResult();
            await foreach (var snapshot in _updates.Reader.ReadAllAsync(cancellationToken))
            {
                yield return snapshot;
            }
        }
    }

    /// <summary>A silo lifecycle reduced to what one participant subscribes: start in order, stop in reverse.</summary>
    private sealed class RecordingLifecycle : ISiloLifecycle
    {
        private readonly List<(int Stage, ILifecycleObserver Observer)> _observers = [];

        public int HighestCompletedStage { get; private set; }

        public int LowestStoppedStage { get; private set; }

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            _observers.Add((stage, observer));
            return new NoUnsubscribe();
        }

        public async Task StartAsync(CancellationToken ct)
        {
            foreach (var (stage, observer) in _observers.OrderBy(o => o.Stage))
            {
                await observer.OnStart(ct);
                HighestCompletedStage = stage;
            }
        }

        public async Task StopAsync(CancellationToken ct)
        {
            foreach (var (stage, observer) in _observers.OrderByDescending(o => o.Stage))
            {
                await observer.OnStop(ct);
                LowestStoppedStage = stage;
            }
        }

        private sealed class NoUnsubscribe : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }
}
