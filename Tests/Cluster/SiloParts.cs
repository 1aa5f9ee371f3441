using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Endpoints;
using Microsoft.Extensions.DependencyInjection;

namespace FlowOrleans.Tests.Cluster;

/// <summary>The parts of one in-process silo's flow transport that tests look into.</summary>
internal sealed record SiloParts(SiloTransport Transport, HostedFlows HostedFlows)
{
    public string SiloKey => Transport.SiloKey;

    public Task Started => Transport.Started;

    public IReadOnlyList<Endpoint> Endpoints => Transport.Endpoints;

    /// <summary>Flows the silo holds for callers.</summary>
    public ICollection<HostedFlow> Flows => HostedFlows.All;

    public static SiloParts Of(IServiceProvider silo) =>
        new(silo.GetRequiredService<SiloTransport>(), silo.GetRequiredService<HostedFlows>());
}
