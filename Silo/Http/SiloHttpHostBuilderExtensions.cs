using System.Diagnostics;
using FlowOrleans.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;

namespace FlowOrleans.Silo.Http;

/// <summary>Adds the silo's HTTP server (<see cref="SiloHttpServer"/>) and what its endpoints need to a silo host.</summary>
internal static class SiloHttpHostBuilderExtensions
{
    /// <summary>
    /// Call before <c>UseOrleans</c>: hosted services start in the order they were added, and the HTTP server must be up
    /// (and its port known to be free) before the silo joins a cluster. With <c>Silo:Dashboard=true</c> the Orleans
    /// Dashboard's silo side is added too (Orleans reuses one silo builder across <c>UseOrleans</c> calls).
    /// </summary>
    public static IHostApplicationBuilder AddSiloHttpServer(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(SiloHostOptions.SectionName);
        builder.Services.AddOptions<SiloHostOptions>().Bind(section);
        builder.Services.AddRouting();

        // Routing reports to the listener a web host would register; this host is not one.
        builder.Services.TryAddSingleton(_ => new DiagnosticListener("Microsoft.AspNetCore"));
        builder.Services.AddFlowClient();
        builder.Services.AddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<SiloHttpServer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SiloHttpServer>());
        if (section.GetValue<bool>(nameof(SiloHostOptions.Dashboard)))
        {
            builder.UseOrleans(silo => silo.AddDashboard());
        }

        return builder;
    }
}
