namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// A connection between the in-process client and server of one system. Disposing it ends every flow it opened,
/// which is also how the runner unblocks a scenario that the watchdog gave up on.
/// </summary>
internal interface IBenchConnection : IAsyncDisposable
{
    /// <summary>
    /// Transport (socket) connections used so far: 1 for a multiplexer, one per flow opened otherwise.
    /// </summary>
    int TransportConnections { get; }

    /// <summary>
    /// Opens a flow from the client and returns both of its ends; both are usable when this completes.
    /// </summary>
    ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Opens a flow from the client and hands its accepting end to <paramref name="handler"/>, as a server's accept
    /// loop would. A system that can let the client write before the server has accepted overrides this; the
    /// others have nothing to gain over <see cref="OpenFlowPairAsync"/>, where the client waits anyway.
    /// </summary>
    async ValueTask<ServedFlow> OpenServedFlowAsync(FlowHandler handler, CancellationToken cancellationToken)
    {
        var pair = await OpenFlowPairAsync(cancellationToken);
        return new ServedFlow(pair.Client, ServedFlow.ServeAsync(pair.Server, handler, cancellationToken));
    }
}
