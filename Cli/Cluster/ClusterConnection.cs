using System.Net;
using System.Net.Sockets;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace FlowOrleans.Cli.Cluster;

/// <summary>
/// Which cluster the cluster verbs talk to: a gateway, the cluster and service IDs, how long to wait, the client
/// certificate for a cluster with mutual TLS (none: plaintext, as the development silo speaks), and the owner
/// capability's file.
/// </summary>
internal sealed record ClusterTarget(GatewayAddress Gateway, string ClusterId, string ServiceId, TimeSpan ConnectTimeout, ClientTlsFiles? Tls, string OwnerPath);

/// <summary>The <c>--tls-certificate</c>, <c>--tls-key</c> and <c>--tls-ca</c> files.</summary>
internal sealed record ClientTlsFiles(string Certificate, string? Key, string Authorities)
{
    /// <summary>Loads the files; one that is missing or unusable is <see cref="ExitCode.BadInput"/> naming its option.</summary>
    public ClusterCertificates Load()
    {
        foreach (var (option, path) in new[] { ("--tls-certificate", Certificate), ("--tls-key", Key), ("--tls-ca", Authorities) })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new CliFailure(ExitCode.BadInput, $"{option} '{path}' is not a readable file; expected a PEM file");
            }
        }

        try
        {
            return ClusterCertificates.Load(new ClusterTlsOptions { CertificatePath = Certificate, PrivateKeyPath = Key, CaCertificatePath = Authorities }, "tls");
        }
        catch (FlowOrleans.Transport.FlowException e)
        {
            throw new CliFailure(ExitCode.BadInput,
                $"--tls-certificate '{Certificate}' with --tls-key and --tls-ca could not be used ({Failures.OneLine(e.Message)}); " +
                "expected a PEM client certificate of the cluster's authority, its key, and that authority's PEM certificate", e);
        }
    }
}

/// <summary>
/// An Orleans client of one cluster through one gateway, as <c>Silo client ...</c> connects (static gateway list,
/// memory streams for accept announcements, mutual TLS when given a certificate), with the <see cref="FlowClient"/>
/// over it. Its logging goes nowhere unless <c>--verbose</c>: a failure is reported as one line, not as the client's log.
/// </summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly ClusterCertificates? _certificates;

    private ClusterConnection(IHost host, ClusterCertificates? certificates, Capability? owner)
    {
        _host = host;
        _certificates = certificates;
        Flows = new FlowClient(host.Services.GetRequiredService<IClusterClient>(), owner: owner);
    }

    public FlowClient Flows { get; }

    /// <summary>
    /// Connects to <paramref name="target"/>. <paramref name="owned"/>: the verb makes or changes pins or listening names,
    /// so the client acts as the owner in <see cref="ClusterTarget.OwnerPath"/> (read, or made, only then).
    /// </summary>
    public static async Task<ClusterConnection> ConnectAsync(ClusterTarget target, bool owned, bool verbose, CancellationToken cancellationToken)
    {
        Capability? owner = owned ? OwnerFile.LoadOrCreate("--owner", target.OwnerPath) : null;
        var gateway = await ResolveAsync(target.Gateway, cancellationToken).ConfigureAwait(false);
        var certificates = target.Tls?.Load();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (verbose)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }

        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(gateway)
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = target.ClusterId;
                    o.ServiceId = target.ServiceId;
                })
                .AddFlowOrleansMemoryStreams();
            if (certificates is not null)
            {
                client.UseFlowOrleansTls(certificates);
            }
        });
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token).ConfigureAwait(false);
            return new ClusterConnection(host, certificates, owner);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            certificates?.Dispose();
            throw new CliFailure(ExitCode.ClusterUnavailable,
                $"--gateway {target.Gateway} did not let a client into cluster '{target.ClusterId}' of service '{target.ServiceId}' " +
                $"({(timeout.IsCancellationRequested ? $"no answer within {target.ConnectTimeout.TotalSeconds:F0} s" : Failures.OneLine(e.Message))}); " +
                "expected the gateway of a running silo (dotnet run --project Silo) with that --cluster-id and --service-id" +
                (certificates is null ? " (a cluster with mutual TLS also needs --tls-certificate, --tls-key and --tls-ca)" : ""), e);
        }
        catch
        {
            host.Dispose();
            certificates?.Dispose();
            throw;
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
        _certificates?.Dispose();
    }
}
