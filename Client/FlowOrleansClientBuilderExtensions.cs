using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Client;

/// <summary>Client-side counterpart of the silo's stream setup.</summary>
public static class FlowOrleansClientBuilderExtensions
{
    /// <summary>Adds the memory stream provider accept announcements travel on; same name as on the silos.</summary>
    public static IClientBuilder AddFlowOrleansMemoryStreams(this IClientBuilder builder, string name = FlowStreamNames.DefaultProvider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMemoryStreams(name);
        return builder;
    }
}
