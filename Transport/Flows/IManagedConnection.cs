using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Flows;

/// <summary>What flows may learn of the connection they share (Vanadium's <c>flow.ManagedConn</c>): metadata only.</summary>
public interface IManagedConnection
{
    Endpoint LocalEndpoint { get; }

    Endpoint RemoteEndpoint { get; }

    Blessings LocalBlessings { get; }

    Blessings RemoteBlessings { get; }

    Discharges LocalDischarges { get; }

    Discharges RemoteDischarges { get; }

    /// <summary>The peer's blessing names this side's authorizer accepted.</summary>
    IReadOnlyList<string> RemoteBlessingNames { get; }

    /// <summary>The protocol version both sides agreed on.</summary>
    ushort CommonVersion { get; }

    /// <summary>Round-trip time of the last health check; zero until one was answered.</summary>
    TimeSpan Rtt { get; }

    /// <summary>The last time a flow read or wrote bytes on this connection.</summary>
    DateTimeOffset LastUsed { get; }

    /// <summary>When the handshake completed: the connection's age is measured from it.</summary>
    DateTimeOffset Established { get; }

    /// <summary>Completes (never faults) when the connection has closed; <see cref="CloseReason"/> then says why.</summary>
    Task Closed { get; }

    /// <summary>Why the connection closed, once it has; null for a local, orderly close.</summary>
    FlowException? CloseReason { get; }

    /// <summary>Live counters: open flows, buffered bytes, reserved windows, outstanding buffers, loops.</summary>
    ConnectionCounters Counters { get; }
}
