using FlowOrleans.Silo.CommandLine;

// The Silo program: without a command it runs the silo (SiloRunner); echo-server, init-db and client are commands
// (SiloCommandLine). Failures end with one line on stderr and an exit code (SiloExitCode).
return await SiloCommandLine.RunAsync(args, builder =>
{
    // What the silo's host gets besides the cluster, one line per feature (status pages, telemetry, ...), such as
    // builder.Services.AddSomething(builder.Configuration);
});
