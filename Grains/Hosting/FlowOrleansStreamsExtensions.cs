using FlowOrleans.GrainInterfaces;
using Orleans.Configuration;

namespace FlowOrleans.Grains.Hosting;

/// <summary>The embedded stream setup for accept announcements: memory streams and their pub-sub store.</summary>
public static class FlowOrleansStreamsExtensions
{
    /// <summary>
    /// Adds memory streams named <paramref name="name"/> with a 10 ms pulling period (the 100 ms default would delay
    /// every announcement by up to a tenth of a second) and two queues, plus in-memory <c>PubSubStore</c>.
    /// Clients add the same provider name. Not durable: see NOTES-orleans.md.
    /// </summary>
    public static ISiloBuilder AddFlowOrleansMemoryStreams(this ISiloBuilder builder, string name = FlowStreamNames.DefaultProvider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMemoryGrainStorage("PubSubStore");
        builder.AddMemoryStreams(name, streams =>
        {
            streams.ConfigurePartitioning(2);
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10)));
        });
        return builder;
    }
}
