using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace FlowOrleans.Silo.Http;

/// <summary>
/// Kestrel on <c>Silo:HttpPort</c>, run as a hosted service of the silo's own generic host rather than a web host: the
/// endpoints resolve the silo's services (cluster client, transport, membership, the dashboard's) from the same
/// container. Registered before Orleans, so it starts first (liveness answers while the silo joins, and a taken port
/// stops the program before it joins a cluster) and stops last (readiness says 503 while the silo drains).
/// </summary>
internal sealed partial class SiloHttpServer(
    IServiceProvider services,
    IOptions<SiloHostOptions> options,
    ILoggerFactory loggerFactory,
    ILogger<SiloHttpServer> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>Where the dashboard is mounted with <c>Silo:Dashboard=true</c>.</summary>
    public const string DashboardPath = "/dashboard";

    private KestrelServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var silo = options.Value;
        var address = new IPEndPoint(BindAddress(silo), silo.HttpPort);
        var kestrel = new KestrelServerOptions { ApplicationServices = services, AddServerHeader = false };
        kestrel.Listen(address);
        var server = new KestrelServer(
            Options.Create(kestrel),
            new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory),
            loggerFactory);
        try
        {
            await server.StartAsync(new Application(BuildPipeline(silo), new DefaultHttpContextFactory(services)), cancellationToken);
        }
        catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
        {
            server.Dispose();
            throw new HttpPortInUseException(silo.HttpPort, address, e);
        }

        _server = server;
        LogListening(address, silo.Dashboard);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            await server.StopAsync(cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Like the gateway: loopback in development, the advertised address otherwise, every address when asked.</summary>
    internal static IPAddress BindAddress(SiloHostOptions silo) => silo switch
    {
        { ListenOnAllAddresses: true } => IPAddress.Any,
        { Storage: SiloStorage.Memory } => IPAddress.Loopback,
        _ => IPAddress.TryParse(silo.AdvertisedAddress, out var advertised) ? advertised : IPAddress.Loopback,
    };

    private RequestDelegate BuildPipeline(SiloHostOptions silo)
    {
        var app = new ApplicationBuilder(services);
        app.UseRouting();
        app.UseEndpoints(endpoints =>
        {
            HealthEndpoints.Map(endpoints);
            StatusEndpoints.Map(endpoints);
            if (silo.Dashboard)
            {
                endpoints.MapOrleansDashboard(routePrefix: DashboardPath);
            }
        });
        return app.Build();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP server listens on {Address} (health, status page{Dashboard})")]
    private partial void LogListening(IPEndPoint address, string dashboard);

    private void LogListening(IPEndPoint address, bool dashboard) => LogListening(address, dashboard ? ", dashboard" : "");

    /// <summary>What a web host would put between Kestrel and the pipeline, reduced to making and releasing contexts.</summary>
    private sealed class Application(RequestDelegate pipeline, IHttpContextFactory contexts) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => contexts.Create(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => pipeline(context);

        public void DisposeContext(HttpContext context, Exception? exception) => contexts.Dispose(context);
    }
}
