using FlowOrleans.GrainInterfaces;
using Orleans.Configuration;
using Orleans.Storage;

namespace FlowOrleans.Grains.Hosting;

/// <summary>The embedded stream setup for accept announcements: memory streams and their pub-sub store.</summary>
public static class FlowOrleansStreamsExtensions
{
    /// <summary>The grain storage Orleans keeps stream subscriptions in.</summary>
    public const string PubSubStoreName = "PubSubStore";

    /// <summary>
    /// Adds memory streams named <paramref name="name"/> with a 10 ms pulling period (the 100 ms default would delay
    /// every announcement by up to a tenth of a second) and two queues, plus in-memory <c>PubSubStore</c> unless the
    /// host registered a durable one first (<see cref="FlowOrleansPostgresExtensions.AddFlowOrleansPostgresStorage"/>
    /// does). Clients add the same provider name. The queues are not durable: announcements are live events.
    /// </summary>
    public static ISiloBuilder AddFlowOrleansMemoryStreams(this ISiloBuilder builder, string name = FlowStreamNames.DefaultProvider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.IsKeyedService && Equals(d.ServiceKey, PubSubStoreName) && d.ServiceType == typeof(IGrainStorage)))
        {
            builder.AddMemoryGrainStorage(PubSubStoreName);
        }

        builder.AddMemoryStreams(name, streams =>
        {
            streams.ConfigurePartitioning(2);
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10)));
        });
        return builder;
    }
}
