namespace FlowOrleans.Transport.Flows;

/// <summary>
/// What a <see cref="ReceiveWindow"/> needs from its connection: the receive budget it reserves growth from (every
/// window plus the shared credit must fit in it), a clock, and the signals that size it.
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

    /// <summary>Gives back <paramref name="bytes"/> reserved earlier.</summary>
    void Unreserve(long bytes);
}
