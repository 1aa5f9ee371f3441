using FlowOrleans.Grains.Diagnostics;
using FlowOrleans.Transport.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FlowOrleans.Silo;

/// <summary>
/// The silo's OpenTelemetry export, as <see cref="SiloTelemetryOptions"/> configure it: traces of the transport, the
/// cluster's grain verbs and Orleans' grain calls, and the metrics of the transport and of Orleans. With an exporter
/// on, grain calls carry the trace context (Orleans' activity propagation), so a client that propagates too joins its
/// spans to the silo's. With none on, nothing is registered: the sources then have no listener and make no spans.
/// </summary>
internal static class SiloTelemetry
{
    /// <summary>Orleans' source of application grain calls: the server spans our grain spans hang under.</summary>
    public const string OrleansGrainCallSource = "Microsoft.Orleans.Application";

    /// <summary>Orleans' meter.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    public static IReadOnlyList<string> ActivitySources { get; } =
        [TransportTelemetry.ActivitySourceName, ClusterTelemetry.ActivitySourceName, OrleansGrainCallSource];

    public static IReadOnlyList<string> Meters { get; } = [TransportTelemetry.MeterName, OrleansMeter];

    /// <summary>Reads <c>Silo:Telemetry</c> and registers the exporters it turns on (validated when the host starts).</summary>
    public static IHostApplicationBuilder AddSiloTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(SiloTelemetryOptions.SectionName);
        builder.Services.AddOptions<SiloTelemetryOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var options = section.Get<SiloTelemetryOptions>() ?? new SiloTelemetryOptions();
        if (!options.Enabled)
        {
            return builder;
        }

        // An invalid endpoint gets no exporter here; the validation above stops the host with a message naming it.
        var otlp = options.OtlpUri;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource([.. ActivitySources]);
                if (options.Console)
                {
                    tracing.AddConsoleExporter();
                }

                if (otlp is not null)
                {
                    tracing.AddOtlpExporter(o => (o.Endpoint, o.Protocol) = (otlp, options.OtlpProtocol));
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. Meters]);
                if (options.Console)
                {
                    metrics.AddConsoleExporter();
                }

                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o => (o.Endpoint, o.Protocol) = (otlp, options.OtlpProtocol));
                }
            });
        builder.UseOrleans(silo => silo.AddActivityPropagation());
        return builder;
    }
}
