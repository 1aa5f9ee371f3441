using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace FlowOrleans.Tests.Diagnostics;

/// <summary>
/// A one-silo in-process cluster whose silo and client propagate the trace context through grain calls (Orleans'
/// <c>AddActivityPropagation</c>, as the Silo program turns on with telemetry), so a client's spans and the silo's join.
/// </summary>
public sealed class TracingClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public FlowClient Flows { get; private set; } = null!;

    internal SiloParts Host => SiloParts.Of(Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress));

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo
            .AddActivityPropagation()
            .ConfigureServices(services => services.AddFlowClient())
            .AddMemoryGrainStorage(FlowStorageNames.Default)
            .UseInMemoryReminderService()
            .AddFlowOrleansMemoryStreams()
            .AddFlowOrleans(o =>
            {
                TestSiloOptions.Development(o);
                o.Listen.Add("tcp/127.0.0.1:0");
            }));
        builder.ConfigureClient(client => client.AddActivityPropagation().AddFlowOrleansMemoryStreams());
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
