using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Endpoints;
using Microsoft.Extensions.Logging.Abstractions;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// Routing-ID registration, against the shared cluster's grains: a registrar speaking for silo A, fed connections
/// that the test closes by hand, so each decision (register, keep, unregister) is observed exactly.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class RoutingIdRegistrarTests(ClusterFixture fixture)
{
    private readonly string _siloKey = fixture.Host(0).SiloKey;

    private RoutingIdRegistrar NewRegistrar() =>
        new(fixture.SiloGrains(0), new TestSiloDetails(fixture.Cluster.Silos[0].SiloAddress), NullLogger<RoutingIdRegistrar>.Instance);

    private static RoutingIdPeer Peer(Endpoint endpoint, string key = "key-a", params string[] names) => new([endpoint], key, names);

    private async Task<IReadOnlyList<string>> HoldersAsync(RoutingId id) =>
        (await fixture.Cluster.Client.GetRoutingIdGrain(id).LookupAsync([])).Select(r => r.SiloKey).ToArray();

    private Task<IReadOnlyList<string>> IndexAsync() => fixture.Cluster.Client.GetGrain<ISiloRoutesGrain>(_siloKey).ListAsync();

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        while (!await condition())
        {
            await Task.Delay(20, cts.Token);
        }
    }

    [Fact]
    public async Task TheLastConnectionToARoutingIdToCloseUnregistersIt()
    {
        var registrar = NewRegistrar();
        var peer = Endpoint.Parse("127.0.0.1:9").WithRoutingId(RoutingId.NewRandom());

        // Continuations run inline on close, so the registrar has decided by the time TrySetResult returns.
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        await registrar.RegisterAsync(first, Peer(peer), first.Task);
        Assert.Equal([_siloKey], await HoldersAsync(peer.RoutingId));
        Assert.Equal(peer, Assert.Single(await fixture.Cluster.Client.GetRoutingIdGrain(peer.RoutingId).LookupAsync([])).Endpoints.Single());
        Assert.Contains(peer.RoutingId.ToString(), await IndexAsync());

        await registrar.RegisterAsync(second, Peer(peer), second.Task);
        await registrar.RegisterAsync(second, Peer(peer), second.Task); // the same connection again: still one
        Assert.Equal(2, registrar.CountFor(peer.RoutingId));

        first.TrySetResult();
        Assert.Equal(1, registrar.CountFor(peer.RoutingId));
        Assert.Equal([_siloKey], await HoldersAsync(peer.RoutingId));

        second.TrySetResult();
        Assert.Equal(0, registrar.CountFor(peer.RoutingId));
        await WaitForAsync(async () => (await HoldersAsync(peer.RoutingId)).Count == 0);
        await WaitForAsync(async () => !(await IndexAsync()).Contains(peer.RoutingId.ToString()));
    }

    [Fact]
    public async Task ANullRoutingIdIsNeverRegistered()
    {
        var registrar = NewRegistrar();
        var anonymous = new TaskCompletionSource();
        await registrar.RegisterAsync(anonymous, Peer(Endpoint.Parse("127.0.0.1:9")), anonymous.Task);
        Assert.Equal(0, registrar.CountFor(RoutingId.Null));
        anonymous.TrySetResult();
    }

    [Fact]
    public async Task AStoppingSiloLeavesItsRegistrationsToTheSurvivorsPurge()
    {
        var registrar = NewRegistrar();
        var peer = Endpoint.ForRoutingId(RoutingId.NewRandom());
        var connection = new TaskCompletionSource();
        await registrar.RegisterAsync(connection, Peer(peer), connection.Task);

        await registrar.StopAsync(CancellationToken.None);
        connection.TrySetResult();
        Assert.Equal(0, registrar.CountFor(peer.RoutingId));
        Assert.Equal([_siloKey], await HoldersAsync(peer.RoutingId));

        // What the test registered for silo A, it removes.
        await fixture.SiloGrains(0).GetRoutingIdGrain(peer.RoutingId).UnregisterAsync(_siloKey, null);
        await fixture.SiloGrains(0).GetGrain<ISiloRoutesGrain>(_siloKey).RemoveAsync(peer.RoutingId.ToString());
    }
}
