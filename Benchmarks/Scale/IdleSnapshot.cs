using System.Diagnostics;
using FlowOrleans.Benchmarks.Scenarios;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// Both processes of an idle scale scenario at one stage (before connecting, connected, with flows), once it has
/// settled: their footprints, and the CPU each used per second over the idle window that followed, while nothing but
/// the connections' own health checks ran. CPU is read from outside the processes and counted in CPU-seconds, which a
/// busy machine delays but hardly inflates.
/// </summary>
internal sealed record IdleSnapshot(
    ProcessFootprint Server,
    ProcessFootprint Client,
    double ServerCpuPerSecond,
    double ClientCpuPerSecond,
    TimeSpan CaptureTime)
{
    public static async Task<IdleSnapshot> TakeAsync(
        ScaleProcess server, ScaleProcess client, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await Task.Delay(settings.ScaleSettle, cancellationToken);

        // Each capture stops its process for a full collection; on a starved machine that can take long enough for
        // the peer's health checks to time out, so the time is kept for the report of a lost connection.
        var capturing = Stopwatch.StartNew();
        var serverFootprint = await server.FootprintAsync(cancellationToken);
        var clientFootprint = await client.FootprintAsync(cancellationToken);
        var captureTime = capturing.Elapsed;

        var serverCpu = server.Cpu;
        var clientCpu = client.Cpu;
        var window = Stopwatch.StartNew();
        await Task.Delay(settings.ScaleIdleWindow, cancellationToken);
        var seconds = window.Elapsed.TotalSeconds;
        return new IdleSnapshot(
            serverFootprint,
            clientFootprint,
            (server.Cpu - serverCpu).TotalSeconds / seconds,
            (client.Cpu - clientCpu).TotalSeconds / seconds,
            captureTime);
    }
}
