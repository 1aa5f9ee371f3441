using FlowOrleans.Benchmarks.Scenarios;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// Both processes of an idle scale scenario at one stage (before connecting, connected, with flows), once it has
/// settled: their footprints, and the CPU each used per second over the idle window that followed, while nothing but
/// the connections' own health checks ran. CPU is measured in CPU-seconds, which a busy machine delays but hardly
/// inflates.
/// </summary>
internal sealed record IdleSnapshot(ProcessFootprint Server, ProcessFootprint Client, double ServerCpuPerSecond, double ClientCpuPerSecond)
{
    public static async Task<IdleSnapshot> TakeAsync(ScaleClientProcess client, ScenarioSettings settings, CancellationToken cancellationToken)
    {
        await Task.Delay(settings.ScaleSettle, cancellationToken);

        var server = ProcessFootprint.Capture();
        var clientFootprint = await client.FootprintAsync(cancellationToken);

        var serverCpu = ProcessFootprint.CurrentCpu();
        var clientCpu = client.Cpu;
        var window = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(settings.ScaleIdleWindow, cancellationToken);
        var seconds = window.Elapsed.TotalSeconds;
        return new IdleSnapshot(
            server,
            clientFootprint,
            (ProcessFootprint.CurrentCpu() - serverCpu).TotalSeconds / seconds,
            (client.Cpu - clientCpu).TotalSeconds / seconds);
    }
}
