using System.ComponentModel.DataAnnotations;
using System.Net;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace FlowOrleans.Silo;

/// <summary>
/// The default command: builds the silo's host from appsettings.json, environment variables and the command line's
/// <c>--Section:Key=value</c> settings, checks what it can before the host starts (<see cref="StartChecks"/>), starts it,
/// prints where it listens and runs until Ctrl+C or SIGTERM. A failure is a <see cref="SiloFailure"/>: one line and an
/// exit code; the exception goes to the log at Debug.
/// </summary>
internal sealed partial class SiloRunner
{
    /// <summary>Time for a stopping silo to hand over its pins and drain its grains (deploy/k8s allows 150 s before it kills the pod).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(120);

    private readonly string[] _settings;
    private readonly Action<HostApplicationBuilder> _configure;

    /// <param name="settings">The command line's settings (<c>--Silo:SiloPort=11111</c>), as the configuration reads them.</param>
    /// <param name="configure">What the program adds to the host besides the silo (Program.cs).</param>
    public SiloRunner(string[] settings, Action<HostApplicationBuilder> configure)
    {
        _settings = settings;
        _configure = configure;
    }

    public async Task<int> RunAsync(TextWriter output)
    {
        // The content root is the program's directory so appsettings.json is found wherever the silo is started from.
        HostApplicationBuilder builder;
        SiloHostOptions siloOptions;
        try
        {
            builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = _settings, ContentRootPath = AppContext.BaseDirectory });
            siloOptions = builder.Configuration.GetSection(SiloHostOptions.SectionName).Get<SiloHostOptions>() ?? new SiloHostOptions();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw StartFailures.Classify(e, new ConfigurationBuilder().AddCommandLine(_settings).Build());
        }

        // Checked before anything else: the silo's own settings decide what the rest is built on (TLS, storage, binding).
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(siloOptions, new(siloOptions), problems, validateAllProperties: true))
        {
            throw new SiloFailure(SiloExitCode.BadSetting, string.Join(" ", problems.Select(p => p.ErrorMessage)));
        }

        var listen = StartChecks.ListenAddresses(builder.Configuration);
        using var certificates = LoadCertificates(siloOptions);
        try
        {
            _configure(builder);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            // A feature's settings read while registering (Silo:Telemetry:Console=maybe) fail as bad settings.
            throw StartFailures.Classify(e, builder.Configuration);
        }

        Configure(builder, siloOptions, certificates);

        using var host = builder.Build();
        var logger = host.Services.GetRequiredService<ILogger<SiloRunner>>();
        try
        {
            // Resolving the options validates them, before Orleans starts anything it would have to stop again.
            _ = host.Services.GetRequiredService<IOptions<FlowOrleansOptions>>().Value;
            _ = host.Services.GetRequiredService<IOptions<FlowManagerOptions>>().Value;
            StartChecks.Ports(host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value, listen);
            if (siloOptions is { Storage: SiloStorage.PostgreSQL, PostgreSql: { } connectionString })
            {
                await StartChecks.StorageAsync(connectionString, CancellationToken.None);
            }

            await host.StartAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogStartFailed(logger, e);
            throw StartFailures.Classify(e, builder.Configuration);
        }

        var transport = host.Services.GetRequiredService<SiloTransport>();
        await transport.Started;
        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        foreach (var line in StartBanner.Lines(siloOptions, endpoints, certificates, transport))
        {
            await output.WriteLineAsync(line);
        }

        await output.WriteLineAsync($"FlowOrleans silo {transport.SiloKey} (gateway port {siloOptions.GatewayPort}, {siloOptions.Storage} storage) flow manager listens on:");
        foreach (var endpoint in transport.Endpoints)
        {
            await output.WriteLineAsync($"  {endpoint}");
        }

        await output.WriteLineAsync("Ready; Ctrl+C stops the silo.");
        await output.FlushAsync();
        await host.WaitForShutdownAsync();
        return (int)SiloExitCode.Success;
    }

    /// <summary>Certificates are read before anything starts, so a missing file stops the silo naming the setting.</summary>
    private static ClusterCertificates? LoadCertificates(SiloHostOptions siloOptions)
    {
        if (!siloOptions.Tls.IsConfigured || string.IsNullOrWhiteSpace(siloOptions.Tls.CaCertificatePath))
        {
            return null;
        }

        try
        {
            return ClusterCertificates.Load(siloOptions.Tls.ToCluster(), SiloTlsOptions.SectionName);
        }
        catch (FlowException e)
        {
            throw new SiloFailure(SiloExitCode.Certificates, $"{StartFailures.OneLine(e.Message)}; expected readable PEM (or PFX) files of the cluster's authority", e);
        }
    }

    private static void Configure(HostApplicationBuilder builder, SiloHostOptions siloOptions, ClusterCertificates? certificates)
    {
        var development = siloOptions.Storage == SiloStorage.Memory;
        builder.Services.AddOptions<SiloHostOptions>().Bind(builder.Configuration.GetSection(SiloHostOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddFlowClient();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.UseOrleans(silo =>
        {
            if (siloOptions is { Storage: SiloStorage.PostgreSQL, PostgreSql: { Length: > 0 } connectionString })
            {
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = siloOptions.ClusterId;
                    o.ServiceId = siloOptions.ServiceId;
                });

                if (IPAddress.TryParse(siloOptions.AdvertisedAddress, out var advertised))
                {
                    silo.ConfigureEndpoints(advertised, siloOptions.SiloPort, siloOptions.GatewayPort, listenOnAnyHostAddress: siloOptions.ListenOnAllAddresses);
                }

                silo.UseFlowOrleansPostgresClustering(connectionString).AddFlowOrleansPostgresStorage(connectionString);
            }
            else
            {
                // Localhost clustering binds both ports to loopback unless told otherwise.
                silo.UseLocalhostClustering(siloOptions.SiloPort, siloOptions.GatewayPort, serviceId: siloOptions.ServiceId, clusterId: siloOptions.ClusterId)
                    .AddMemoryGrainStorage(FlowStorageNames.Default)
                    .UseInMemoryReminderService();
                if (siloOptions.ListenOnAllAddresses)
                {
                    silo.Configure<EndpointOptions>(o =>
                    {
                        o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, siloOptions.SiloPort);
                        o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, siloOptions.GatewayPort);
                    });
                }
            }

            if (certificates is not null)
            {
                silo.UseFlowOrleansTls(certificates);
            }

            silo.AddMemoryGrainStorageAsDefault()
                .AddFlowOrleansMemoryStreams()
                .AddFlowOrleans(o => DevelopmentProfile.Apply(o, builder.Configuration, development));
        });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The silo did not start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);
}
