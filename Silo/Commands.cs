using System.Text;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Silo;

/// <summary>
/// Small tools for trying a silo by hand: an echo server outside the cluster, and an Orleans client that dials
/// through the silo, accepts flows from it, or prints its status. Each runs in its own process, never beside a silo.
/// </summary>
internal static class Commands
{
    public const string Usage = """
        usage: FlowOrleans.Silo                                   run a silo (see appsettings.json)
               FlowOrleans.Silo echo-server [tcp/127.0.0.1:0]     a plain FlowManager that echoes every flow
               FlowOrleans.Silo client status                     every silo's endpoints, connections, pins
               FlowOrleans.Silo client dial <endpoint> <text> [blessing-pattern...]
                                                                  send text through a silo, print the reply
               FlowOrleans.Silo client accept                     echo every flow peers open to the cluster
               FlowOrleans.Silo init-db [connection-string]       create the PostgreSQL schema unless it exists
        client options: --gateway-port 30000 --cluster-id dev --service-id flow-orleans
                        --Silo:Tls:CertificatePath=client.pem --Silo:Tls:PrivateKeyPath=client.key --Silo:Tls:CaCertificatePath=ca.pem (mutual TLS)
        """;

    public static async Task<int> RunEchoServerAsync(string[] args)
    {
        var address = ListenAddress.Parse(args.Length > 0 ? args[0] : "tcp/127.0.0.1:0");
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf("echo-server");
        await using var manager = new FlowManager(new FlowManagerOptions { Principal = principal });
        var listener = await manager.ListenAsync(address.Protocol, address.Address);
        Console.WriteLine($"echo server listens on {listener.Endpoint}");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            while (true)
            {
                var flow = await manager.AcceptAsync(stop.Token);
                _ = EchoAsync(flow.AsStream(), flow.RemoteEndpoint.ToString());
            }
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }

    public static async Task<int> RunClientAsync(string[] args)
    {
        var options = ParseClientOptions(args, out var verb, out var settings);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var tls = builder.Configuration.GetSection(SiloTlsOptions.SectionName).Get<SiloTlsOptions>() ?? new SiloTlsOptions();
        ClusterCertificates? certificates = null;
        if (tls.IsConfigured)
        {
            try
            {
                certificates = ClusterCertificates.Load(tls.ToCluster(), SiloTlsOptions.SectionName);
            }
            catch (FlowException e)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 2;
            }
        }

        using var owned = certificates;
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId)
                .AddFlowOrleansMemoryStreams();
            if (certificates is not null)
            {
                client.UseFlowOrleansTls(certificates);
            }
        });
        using var host = builder.Build();
        await host.StartAsync();
        var flows = new FlowClient(host.Services.GetRequiredService<IClusterClient>());
        try
        {
            switch (verb)
            {
                case ["status"]:
                    foreach (var silo in await flows.GetStatusAsync())
                    {
                        Console.WriteLine($"silo {silo.SiloKey} routing ID {silo.RoutingId}, {silo.OpenFlows} open flows");
                        silo.Endpoints.ToList().ForEach(e => Console.WriteLine($"  listens on {e}"));
                        silo.Connections.ToList().ForEach(c => Console.WriteLine($"  connection to {c.RemoteEndpoint} rtt {c.Rtt.TotalMilliseconds:F1} ms, {c.OpenFlows} flows"));
                        silo.Pins.ToList().ForEach(p => Console.WriteLine($"  pin '{p.Name}' -> {p.Endpoint} ({p.Reconnects} reconnects)"));
                    }

                    return 0;
                case ["dial", var endpoint, var text, .. var patterns]:
                    await using (var flow = await flows.DialAsync(endpoint, new FlowDialOptions { BlessingPatterns = patterns }))
                    {
                        await flow.WriteAsync(Encoding.UTF8.GetBytes(text));
                        await flow.CompleteWritesAsync();
                        using var reader = new StreamReader(flow, Encoding.UTF8);
                        Console.WriteLine($"via silo {flow.Handle.SiloKey}: {await reader.ReadToEndAsync()}");
                    }

                    return 0;
                case ["accept"]:
                    // Ctrl+C ends the loop, so the acceptor gives its listening name back instead of holding it for a lease.
                    using (var stop = new CancellationTokenSource())
                    {
                        Console.CancelKeyPress += (_, e) =>
                        {
                            e.Cancel = true;
                            stop.Cancel();
                        };
                        Console.WriteLine("accepting flows on 'default'; Ctrl+C stops");
                        try
                        {
                            await foreach (var flow in flows.AcceptAllAsync(cancellationToken: stop.Token))
                            {
                                _ = EchoAsync(flow, $"{flow.Handle.RemoteEndpoint} [{string.Join(", ", flow.PeerBlessingNames)}]");
                            }
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                        }
                    }

                    return 0;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task EchoAsync(Stream flow, string remote)
    {
        await using (flow)
        {
            using var received = new MemoryStream();
            await flow.CopyToAsync(received);
            Console.WriteLine($"echoing {received.Length} bytes to {remote}");
            await flow.WriteAsync(received.ToArray());
            // Disposing either kind of flow closes its write side gracefully; the echoed bytes are delivered first.
        }
    }

    private static (int GatewayPort, string ClusterId, string ServiceId) ParseClientOptions(string[] args, out string[] verb, out string[] settings)
    {
        var rest = new List<string>();
        var configuration = new List<string>();
        var options = (GatewayPort: 30000, ClusterId: "dev", ServiceId: "flow-orleans");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--gateway-port" when i + 1 < args.Length:
                    options.GatewayPort = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--cluster-id" when i + 1 < args.Length:
                    options.ClusterId = args[++i];
                    break;
                case "--service-id" when i + 1 < args.Length:
                    options.ServiceId = args[++i];
                    break;
                case var setting when setting.StartsWith("--Silo:", StringComparison.Ordinal):
                    configuration.Add(setting);
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        verb = rest.ToArray();
        settings = configuration.ToArray();
        return options;
    }
}
