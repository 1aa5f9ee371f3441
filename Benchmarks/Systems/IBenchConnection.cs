namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// A connection between the in-process client and server of one system. Disposing it ends every flow it opened,
/// which is also how the runner unblocks a scenario that the watchdog gave up on.
/// </summary>
internal interface IBenchConnection : IAsyncDisposable
{
    /// <summary>
    /// Opens a flow from the client and returns both of its ends; both are usable when this completes.
    /// </summary>
    ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Transport (socket) connections used so far: 1 for a multiplexer, one per flow opened otherwise.
    /// </summary>
    int TransportConnections { get; }
}
