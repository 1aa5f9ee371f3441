using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Tests.Cluster;

/// <summary>An Orleans client host in the test process connected to a Silo program's gateway, with its <see cref="FlowClient"/>.</summary>
internal sealed record ProcessClient(IHost Host, FlowClient Flows) : IAsyncDisposable
{
    public IClusterClient Cluster => Host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects to <paramref name="gatewayPort"/> on loopback; with <paramref name="tls"/>, over mutual TLS.</summary>
    public static Task<ProcessClient> ConnectAsync(int gatewayPort, string clusterId, CancellationToken cancellationToken, ClusterCertificates? tls = null) =>
        ConnectAsync(client => client.UseLocalhostClustering(gatewayPort, serviceId: "flow-orleans", clusterId: clusterId), cancellationToken, tls);

    /// <summary>Connects as <paramref name="clustering"/> says (a gateway list, a membership table).</summary>
    public static async Task<ProcessClient> ConnectAsync(Action<IClientBuilder> clustering, CancellationToken cancellationToken, ClusterCertificates? tls = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            clustering(client);
            client.AddFlowOrleansMemoryStreams();
            if (tls is not null)
            {
                client.UseFlowOrleansTls(tls);
            }
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new ProcessClient(host, new FlowClient(host.Services.GetRequiredService<IClusterClient>()));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(CancellationToken.None);
        Host.Dispose();
    }
}
