using FlowOrleans.Silo.CommandLine;
using Microsoft.Extensions.Hosting;

// The Silo program: without a command it runs the silo (SiloRunner); echo-server, init-db and client are commands
// (SiloCommandLine). Failures end with one line on stderr and an exit code (SiloExitCode).
return await SiloCommandLine.RunAsync(args, ConfigureHost);

// What the silo's host gets besides the cluster: one line per feature (status pages, telemetry, ...).
static void ConfigureHost(HostApplicationBuilder builder)
{
    _ = builder;
}
