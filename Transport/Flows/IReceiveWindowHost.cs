namespace FlowOrleans.Transport.Flows;

/// <summary>
/// What a <see cref="ReceiveWindow"/> needs from its connection: the receive budget its window is reserved from (every
/// window plus the shared credit must fit in it), the shared credit that covers the peer's bytes beyond a window, a
/// clock, and the signals that size it.
/// </summary>
internal interface IReceiveWindowHost
{
    TimeProvider TimeProvider { get; }

    /// <summary>The largest a receive window may grow by auto-tuning.</summary>
    int MaxFlowWindow { get; }

    /// <summary>The largest any receive window should be now (smaller while a flow of messages shares the connection).</summary>
    int WindowLimit { get; }

    /// <summary>The smallest round trip measured while no data moved; zero before one was.</summary>
    TimeSpan MinRtt { get; }

    /// <summary>Reserves <paramref name="bytes"/> of the receive budget; false, reserving nothing, when they do not fit.</summary>
    bool TryReserve(long bytes);

    /// <summary>Gives back <paramref name="bytes"/> reserved earlier, leaving the window <paramref name="remaining"/> (zero: it holds none).</summary>
    void Unreserve(long bytes, long remaining);

    /// <summary>
    /// The peer sent <paramref name="bytes"/> more beyond the credit a flow granted it: they come out of the shared
    /// credit, counted once for the whole connection. False when it is exhausted, which the peer may not do.
    /// </summary>
    bool TryDrawShared(long bytes);

    /// <summary>Bytes drawn with <see cref="TryDrawShared"/> are covered again (by credit granted since, or settled).</summary>
    void ReturnShared(long bytes);
}
