namespace FlowOrleans.Benchmarks.Systems;

/// <summary>A system the command line can select, and how to start it.</summary>
internal sealed record BenchSystemInfo(
    string Name,
    string Description,
    Func<CancellationToken, ValueTask<IBenchSystem>> StartAsync);
