using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FlowOrleans.Client;

/// <summary>
/// Registers <see cref="FlowClient"/> over the host's <see cref="IClusterClient"/>. Works the same in an Orleans client
/// host and in a silo host, where grains and services get the cluster API through the silo's own cluster client.
/// </summary>
public static class FlowClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="FlowClient"/>; its pins and listening names belong to <paramref name="owner"/> (default: a new
    /// random capability per process, so pass a stored one to manage them across restarts).
    /// </summary>
    public static IServiceCollection AddFlowClient(this IServiceCollection services, string streamProvider = FlowStreamNames.DefaultProvider, Capability? owner = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(streamProvider);
        services.TryAddSingleton(sp => new FlowClient(sp.GetRequiredService<IClusterClient>(), streamProvider, owner));
        return services;
    }
}
