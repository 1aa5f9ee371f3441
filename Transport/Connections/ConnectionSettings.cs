using System.Threading.Channels;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowOrleans.Transport.Connections;

/// <summary>Who one side of a connection is, how it judges its peer, and where flows the peer opens go.</summary>
public sealed class ConnectionSettings
{
    /// <summary>The local identity: signs the handshake; its key must be the key of the blessings presented.</summary>
    public required Principal Principal { get; init; }

    /// <summary>Judges the peer and picks the blessings to present.</summary>
    public required IPeerAuthorizer Authorizer { get; init; }

    /// <summary>This side's endpoint as the peer should know it (its routing ID above all).</summary>
    public required Endpoint LocalEndpoint { get; init; }

    /// <summary>When dialing: the endpoint meant; a non-null routing ID in it must match the peer's.</summary>
    public Endpoint? RemoteEndpoint { get; init; }

    public ConnectionOptions Options { get; init; } = new();

    /// <summary>
    /// Present only this side's public key (<see cref="Blessings.Nameless"/>) instead of what the authorizer's
    /// <see cref="IPeerAuthorizer.BlessingsForPeer"/> picks. A dial-only manager sets it, as Vanadium's does, so a
    /// server learns no names from a client nobody can dial back.
    /// </summary>
    public bool PresentNamelessBlessings { get; init; }

    /// <summary>
    /// Where flows opened by the peer are delivered. A bounded channel is the accept backlog: when it is full, or when
    /// this is null, the peer's new flows are refused.
    /// </summary>
    public ChannelWriter<IFlow>? AcceptedFlows { get; init; }

    /// <summary>
    /// Judges whether the peer may open flows here: they reach <see cref="AcceptedFlows"/> only if it accepts the peer,
    /// and are refused with <see cref="FlowErrorCode.NotTrusted"/> otherwise, whichever side dialed. The handshake runs
    /// it after <see cref="Authorizer"/> (once, when the two are the same object), so the verdict exists before the
    /// first flow can arrive. Null: every peer the handshake accepted may open flows.
    /// </summary>
    public IPeerAuthorizer? AcceptorAuthorizer { get; init; }

    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// Whoever takes flows out of <see cref="AcceptedFlows"/> calls <see cref="Flow.FlushRidingAcknowledgement"/> when it
    /// hands one out, so the acknowledgement of an open that carried data may wait to ride with the reply (the manager's
    /// <c>AcceptAsync</c> does). Otherwise every acknowledgement goes out as the flow enters the backlog.
    /// </summary>
    internal bool AcknowledgementsRideWithReplies { get; init; }

    /// <summary>Test hook: a record counter limit, to exercise nonce exhaustion.</summary>
    internal ulong MaxRecords { get; init; } = ulong.MaxValue;

    /// <summary>Where the connection also adds its monotonic counts (bytes, records, flows): its manager's totals.</summary>
    internal ConnectionCounters? AggregateCounters { get; init; }

    /// <summary>The receive budget of every connection of the manager, which this one reserves from too; null for none.</summary>
    internal ReceiveBudgetPool? ManagerBudget { get; init; }

    /// <summary>
    /// Runs once the handshake succeeded and before the connection reads anything: the manager files the connection,
    /// dialed or accepted, in its cache here, so that by the time one of its flows is accepted, the peer is reachable by
    /// routing ID (a server that dials back the caller of the flow it just accepted finds the connection).
    /// </summary>
    internal Action<ManagedConnection>? BeforeStart { get; init; }
}
