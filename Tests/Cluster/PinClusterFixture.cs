using System.Collections.Concurrent;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace FlowOrleans.Tests.Cluster;

/// <summary>A three-silo cluster of its own for pin tests, which kill a silo; state lives in <see cref="SharedGrainStorage"/>.</summary>
public sealed class PinClusterFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, (byte[] Data, string ETag)> _store = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The shared grain storage, keyed <c>stateName/grainId</c>: tests read it, or write it as another activation would.</summary>
    public ConcurrentDictionary<string, (byte[] Data, string ETag)> Store => _store;

    public Serializer Serializer => Cluster.Client.ServiceProvider.GetRequiredService<Serializer>();

    public FlowClient Flows { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = await StartAsync(3, _store, o => o.PinCheckPeriod = TimeSpan.FromMilliseconds(200));
        Flows = new FlowClient(Cluster.Client);
    }

    /// <summary>
    /// Starts a cluster of <paramref name="silos"/> pin-holding silos on <paramref name="store"/>, each listening on TCP,
    /// with <paramref name="configure"/> applied after the development defaults. Tests that stop or replace silos start
    /// one of their own with it.
    /// </summary>
    public static async Task<InProcessTestCluster> StartAsync(
        short silos, ConcurrentDictionary<string, (byte[] Data, string ETag)> store, Action<FlowOrleansOptions> configure)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<IGrainStorage>(FlowStorageNames.Default, (sp, _) => new SharedGrainStorage(store, sp.GetRequiredService<Serializer>()));
            silo.UseInMemoryReminderService()
                .AddFlowOrleansMemoryStreams()
                .AddFlowOrleans(o =>
                {
                    TestSiloOptions.Development(o);
                    o.Listen.Add("tcp/127.0.0.1:0");
                    configure(o);
                });
        });
        builder.ConfigureClient(client => client.AddFlowOrleansMemoryStreams());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PinClusterCollection : ICollectionFixture<PinClusterFixture>
{
    public const string Name = "PinCluster";
}
