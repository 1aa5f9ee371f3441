using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// One in-process cluster of three silos shared by every cluster test: starting and stopping silos costs seconds,
/// so tests share it and leave it as they found it (they close their flows and never stop silos).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int ReadAheadChunks = 4;

    /// <summary>Short, so lease tests run quickly and every other test exercises the clients' renewals.</summary>
    public static readonly TimeSpan FlowLeaseTimeout = TimeSpan.FromSeconds(2);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public FlowClient Flows { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = await StartAsync(3);
        Flows = new FlowClient(Cluster.Client);
    }

    /// <summary>Starts an in-process development cluster of <paramref name="silos"/> silos as the shared fixture's, and waits until every silo is active.</summary>
    internal static async Task<InProcessTestCluster> StartAsync(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) => silo
            .ConfigureServices(services => services.AddFlowClient())
            .AddMemoryGrainStorage(FlowStorageNames.Default)
            .UseInMemoryReminderService()
            .AddFlowOrleansMemoryStreams()
            .AddFlowOrleans(o =>
            {
                TestSiloOptions.Development(o);
                o.Listen.Add("tcp/127.0.0.1:0");
                o.ReadAheadChunks = ReadAheadChunks;
                o.FlowLeaseTimeout = FlowLeaseTimeout;
            }));
        builder.ConfigureClient(client => client.AddFlowOrleansMemoryStreams());
        var cluster = builder.Build();
        await cluster.DeployAsync();

        // DeployAsync stops waiting for membership after ~100 ms; tests need every silo active.
        await cluster.WaitForLivenessToStabilizeAsync();
        return cluster;
    }

    /// <summary>
    /// The grain factory of the silo at <paramref name="index"/>: calls from it come from that silo (its hosted client),
    /// so they may reach methods only silos may call, which the test client is refused.
    /// </summary>
    internal IGrainFactory SiloGrains(int index) =>
        Cluster.GetSiloServiceProvider(Cluster.Silos[index].SiloAddress).GetRequiredService<IGrainFactory>();

    /// <summary>The flow transport parts of the silo at <paramref name="index"/>.</summary>
    internal SiloParts Host(int index) => SiloParts.Of(Cluster.GetSiloServiceProvider(Cluster.Silos[index].SiloAddress));

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Cluster";
}
