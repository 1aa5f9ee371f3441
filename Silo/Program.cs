using System.Net;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using FlowOrleans.Silo;
using FlowOrleans.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

switch (args)
{
    case ["echo-server", .. var rest]:
        return await Commands.RunEchoServerAsync(rest);
    case ["client", .. var rest]:
        return await Commands.RunClientAsync(rest);
    case ["init-db", .. var rest]:
        return await DatabaseSchema.RunAsync(rest);
    case ["--help" or "-h" or "help", ..]:
        Console.WriteLine(Commands.Usage);
        return 0;
    default:
        break;
}

// Configuration: appsettings.json, then environment variables, then the command line (e.g. --FlowOrleans:Listen:0=tcp/0.0.0.0:8100).
// The content root is the program's directory so appsettings.json is found wherever the silo is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

// Validated when the host starts, before the silo does; registration below already needs the bound values.
var siloSection = builder.Configuration.GetSection(SiloHostOptions.SectionName);
builder.Services.AddOptions<SiloHostOptions>().Bind(siloSection).ValidateDataAnnotations().ValidateOnStart();
var siloOptions = siloSection.Get<SiloHostOptions>() ?? new SiloHostOptions();
var development = siloOptions.Storage == SiloStorage.Memory;

// Checked before anything else: the silo's own settings decide what the rest is built on (TLS, storage, binding).
var problems = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(siloOptions, new(siloOptions), problems, validateAllProperties: true))
{
    await Console.Error.WriteLineAsync($"The silo cannot start with these settings: {string.Join(" ", problems.Select(p => p.ErrorMessage))}");
    return 1;
}
builder.Services.AddFlowClient();
builder.AddSiloTelemetry(); // Silo:Telemetry: OpenTelemetry traces and metrics, off by default (SiloTelemetry.cs)

// Certificates are read before anything starts, so a missing file stops the silo naming the setting.
ClusterCertificates? certificates = null;
if (siloOptions.Tls.IsConfigured && !string.IsNullOrWhiteSpace(siloOptions.Tls.CaCertificatePath))
{
    try
    {
        certificates = ClusterCertificates.Load(siloOptions.Tls.ToCluster(), SiloTlsOptions.SectionName);
    }
    catch (FlowException e)
    {
        await Console.Error.WriteLineAsync($"The silo cannot start with these settings: {e.Message}");
        return 1;
    }
}

// Time for a stopping silo to hand over its pins and drain its grains (deploy/k8s allows 150 s before it kills the pod).
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(120));
builder.UseOrleans(silo =>
{
    // Values the validation refuses are left out here: the host's start fails on them before the silo starts (a
    // PostgreSQL silo without a connection string is shaped like a memory one until then).
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

using var host = builder.Build();
try
{
    await host.StartAsync();
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync($"The silo cannot start with these settings: {e.Message}");
    return 1;
}

var transport = host.Services.GetRequiredService<SiloTransport>();
await transport.Started;
var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
foreach (var line in StartBanner.Lines(siloOptions, endpoints, certificates, transport))
{
    Console.WriteLine(line);
}

Console.WriteLine($"FlowOrleans silo {transport.SiloKey} (gateway port {siloOptions.GatewayPort}, {siloOptions.Storage} storage) flow manager listens on:");
foreach (var endpoint in transport.Endpoints)
{
    Console.WriteLine($"  {endpoint}");
}

Console.WriteLine("Ready; Ctrl+C stops the silo.");

await host.WaitForShutdownAsync();
certificates?.Dispose();
return 0;
