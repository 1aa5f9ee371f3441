namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// One system under test (tcp, tls, nerdbank, flow...), started once per benchmark run: it owns its listener and
/// credentials, and every scenario run makes fresh connections through it.
/// </summary>
internal interface IBenchSystem : IAsyncDisposable
{
    string Name { get; }

    /// <summary>
    /// False when a "flow" is a whole transport connection (tcp, tls): multi-flow scenarios then use one
    /// connection per flow, and the report says how many.
    /// </summary>
    bool IsMultiplexed { get; }

    /// <summary>
    /// True for the Orleans cluster path, whose flows pass through a silo: only the relay scenarios run on it.
    /// </summary>
    bool IsClusterRelay => false;

    /// <summary>
    /// Establishes one authenticated connection; completes once both ends are ready to open flows.
    /// </summary>
    ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken);
}
