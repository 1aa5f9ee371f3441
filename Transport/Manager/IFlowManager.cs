using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// Creates flows and reuses connections (Vanadium's <c>flow.Manager</c>): listens on protocols and proxies, accepts
/// flows from them and from connections it dialed, dials endpoints through a cache, and keeps pinned connections alive.
/// </summary>
public interface IFlowManager : IAsyncDisposable
{
    /// <summary>This manager's routing ID; <see cref="RoutingId.Null"/> means it can only dial.</summary>
    RoutingId RoutingId { get; }

    /// <summary>The identity this manager presents to peers.</summary>
    Principal Principal { get; }

    /// <summary>The connections the manager holds right now, dialed and accepted.</summary>
    IReadOnlyList<IManagedConnection> Connections { get; }

    /// <summary>Completes when the manager has closed; every operation fails afterwards.</summary>
    Task Closed { get; }

    /// <summary>
    /// Listening endpoints, listen and proxy errors, and a task that completes on the next change. With nothing
    /// listening, the one endpoint is protocol <c>bidi</c> with this manager's routing ID (reachable over the
    /// connections it dialed), and none for a dial-only manager, as in Vanadium.
    /// </summary>
    ListenStatus Status { get; }

    /// <summary>Starts accepting connections on <paramref name="protocol"/>/<paramref name="address"/> (":0" picks a port).</summary>
    Task<IFlowListener> ListenAsync(string protocol, string address, CancellationToken cancellationToken = default);

    /// <summary>Registers with the proxy at <paramref name="proxy"/> under <paramref name="name"/> and accepts flows it forwards.</summary>
    Task<IFlowListener> ProxyListenAsync(string name, Endpoint proxy, IPeerAuthorizer authorizer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops every listener and proxy registration and puts every cached connection into lame duck (completing once each
    /// peer acknowledged, so no peer opens a new flow here); pending <see cref="AcceptAsync"/> calls then fail.
    /// Listening again works.
    /// </summary>
    Task StopListeningAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for the next flow a peer opened, on a listened address or on a connection this manager dialed; only peers
    /// the acceptor authorizer admits get here (others' flows are refused with <see cref="FlowErrorCode.NotTrusted"/>).
    /// A dial-only manager (null routing ID) fails at once with <see cref="FlowErrorCode.BadState"/>: no flow can arrive.
    /// </summary>
    ValueTask<IFlow> AcceptAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a flow to <paramref name="remote"/> over a cached connection whose peer <paramref name="authorizer"/>
    /// accepts now, or over a new connection whose handshake it judged (<see cref="FlowErrorCode.NotTrusted"/> if it
    /// refuses). A routing ID alone never decides who is reached: any peer may claim any ID.
    /// </summary>
    Task<IFlow> DialAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="DialAsync"/> but only over an already cached connection: fails with
    /// <see cref="FlowErrorCode.BadState"/> when none is cached, <see cref="FlowErrorCode.NotTrusted"/> when
    /// <paramref name="authorizer"/> refuses the peer of every one that is.
    /// </summary>
    Task<IFlow> DialCachedAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a flow on <paramref name="connection"/> that does not count towards the connection's idleness, once
    /// <paramref name="authorizer"/> has accepted its peer as <paramref name="remote"/> (<see cref="FlowErrorCode.NotTrusted"/> otherwise).
    /// A positive <paramref name="channelTimeout"/> shorter than the connection's applies to it while the flow is open,
    /// as for every dial.
    /// </summary>
    Task<IFlow> DialSideChannelCachedAsync(Endpoint remote, IPeerAuthorizer authorizer, IManagedConnection connection, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps a connection to <paramref name="remote"/> out of eviction and reconnects it whenever it drops; the first
    /// connection and every reconnect are chosen as <see cref="DialAsync"/> chooses, by <paramref name="authorizer"/>.
    /// </summary>
    Task<IPinnedConnection> PinConnectionAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default);
}

/// <summary>A listening address (or proxy registration) of a manager.</summary>
public interface IFlowListener
{
    /// <summary>The endpoint peers dial: this address with the manager's routing ID and blessings.</summary>
    Endpoint Endpoint { get; }

    /// <summary>
    /// Every endpoint peers can dial now. For an address: one per interface address when listening on an unspecified
    /// host (0.0.0.0, [::]), else just <see cref="Endpoint"/>, which comes first. For a proxy registration: those the
    /// proxy publishes, none while unregistered.
    /// </summary>
    IReadOnlyList<Endpoint> Endpoints { get; }

    /// <summary>Ends when the listener stops accepting: faulted with the cause, or completed after StopListening.</summary>
    Task Completion { get; }
}

/// <summary>A connection the manager keeps alive (Vanadium's <c>flow.PinnedConn</c>).</summary>
public interface IPinnedConnection
{
    /// <summary>The current connection; it changes after a reconnect, and is never null.</summary>
    IManagedConnection Connection { get; }

    /// <summary>How many times the pin reconnected.</summary>
    int Reconnects { get; }

    /// <summary>Stops keeping the connection alive and lets it be evicted. Idempotent.</summary>
    void Unpin();
}

/// <summary>A snapshot of a manager's listening state (Vanadium's <c>flow.ListenStatus</c>).</summary>
public sealed record ListenStatus(
    IReadOnlyList<Endpoint> Endpoints,
    IReadOnlyDictionary<(string Protocol, string Address), FlowException> ListenErrors,
    IReadOnlyDictionary<string, FlowException?> ProxyErrors,
    Task Dirty);
