using System.Net;
using System.Net.Sockets;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace FlowOrleans.Cli.Cluster;

/// <summary>Which cluster the cluster verbs talk to: a gateway, the cluster and service IDs, how long to wait.</summary>
internal sealed record ClusterTarget(GatewayAddress Gateway, string ClusterId, string ServiceId, TimeSpan ConnectTimeout);

/// <summary>
/// An Orleans client of one cluster through one gateway, as <c>Silo client ...</c> connects (static gateway list,
/// memory streams for accept announcements), with the <see cref="FlowClient"/> over it. Its logging goes nowhere
/// unless <c>--verbose</c>: a failure is reported as one line, not as the client's log.
/// </summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host)
    {
        _host = host;
        Flows = new FlowClient(host.Services.GetRequiredService<IClusterClient>());
    }

    public FlowClient Flows { get; }

    public static async Task<ClusterConnection> ConnectAsync(ClusterTarget target, bool verbose, CancellationToken cancellationToken)
    {
        var gateway = await ResolveAsync(target.Gateway, cancellationToken).ConfigureAwait(false);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (verbose)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }

        builder.UseOrleansClient(client => client
            .UseStaticClustering(gateway)
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = target.ClusterId;
                o.ServiceId = target.ServiceId;
            })
            .AddFlowOrleansMemoryStreams());
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token).ConfigureAwait(false);
            return new ClusterConnection(host);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new CliFailure(ExitCode.ClusterUnavailable,
                $"--gateway {target.Gateway} did not let a client into cluster '{target.ClusterId}' of service '{target.ServiceId}' " +
                $"({(timeout.IsCancellationRequested ? $"no answer within {target.ConnectTimeout.TotalSeconds:F0} s" : Failures.OneLine(e.Message))}); " +
                "expected the gateway of a running silo (dotnet run --project Silo) with that --cluster-id and --service-id", e);
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(GatewayAddress gateway, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(gateway.Host, out var address))
        {
            return new IPEndPoint(address, gateway.Port);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(gateway.Host, cancellationToken).ConfigureAwait(false);
            return new IPEndPoint(addresses.First(), gateway.Port);
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            throw new CliFailure(ExitCode.ClusterUnavailable, $"--gateway {gateway}: the host name does not resolve ({e.Message}); expected a resolvable host or an IP address", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _host.StopAsync(stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or Orleans.Runtime.OrleansException)
        {
            // Leaving a cluster that is already gone is no failure of the verb.
        }

        _host.Dispose();
    }
}
