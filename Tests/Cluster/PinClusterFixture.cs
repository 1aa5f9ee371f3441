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
        var builder = new InProcessTestClusterBuilder(3);
        var store = _store;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<IGrainStorage>(FlowStorageNames.Default, (sp, _) => new SharedGrainStorage(store, sp.GetRequiredService<Serializer>()));
            silo.UseInMemoryReminderService()
                .AddFlowOrleansMemoryStreams()
                .AddFlowOrleans(o =>
                {
                    TestSiloOptions.Development(o);
                    o.Listen.Add("tcp/127.0.0.1:0");
                    o.PinCheckPeriod = TimeSpan.FromMilliseconds(200);
                });
        });
        builder.ConfigureClient(client => client.AddFlowOrleansMemoryStreams());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
        Flows = new FlowClient(Cluster.Client);
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
