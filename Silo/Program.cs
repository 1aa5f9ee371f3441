using FlowOrleans.Silo;
using FlowOrleans.Silo.CommandLine;
using FlowOrleans.Silo.Http;

// The Silo program: without a command it runs the silo (SiloRunner); echo-server, init-db and client are commands
// (SiloCommandLine). Failures end with one line on stderr and an exit code (SiloExitCode).
return await SiloCommandLine.RunAsync(args, builder =>
{
    // What the silo's host gets besides the cluster, one line per feature; added before the silo, so they start first.
    builder.AddSiloHttpServer(); // Silo/Http: health probes, status page, dashboard
    builder.AddSiloTelemetry(); // Silo:Telemetry: OpenTelemetry traces and metrics, off by default (SiloTelemetry.cs)
});
