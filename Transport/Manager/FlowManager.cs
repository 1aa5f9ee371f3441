using System.Collections.Concurrent;
using System.Threading.Channels;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Diagnostics;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The flow manager: listens, accepts, dials through a connection cache, pins connections and proxies listening
/// (accepting connections is in FlowManager.Accepting.cs, the proxy parts in FlowManager.Proxy.cs).
/// Every connection it holds, dialed or accepted, delivers the flows its peer opens to <see cref="AcceptAsync"/>
/// (unless the manager's routing ID is null), which is what makes flows bidirectional by routing ID.
/// </summary>
public sealed partial class FlowManager : IFlowManager
{
    /// <summary>Cache lookups a dial makes before dialing regardless of connections that arrive meanwhile.</summary>
    private const int MaxLookupsPerDial = 4;

    private readonly FlowManagerOptions _options;
    private readonly Principal _principal;
    private readonly ProtocolRegistry _protocols;
    private readonly IPeerAuthorizer _acceptorAuthorizer;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConnectionCache _cache = new();
    private readonly AcceptQueue _accepts;
    private readonly ConnectionCounters _totals = new();
    private readonly ReceiveBudgetPool _receiveBudget;
    private readonly PendingHandshakes _handshakes;
    private readonly FlowManagerMetrics _metrics;
    private readonly Lock _statusLock = new();
    private readonly List<ManagerListener> _listeners = [];
    private readonly Dictionary<(string Protocol, string Address), FlowException> _listenErrors = [];
    private readonly Dictionary<string, FlowException?> _proxyErrors = [];
    private readonly ConcurrentDictionary<PinnedConnection, byte> _pins = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _dirty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stoppedListening; // from StopListening until the next Listen: connections dialed meanwhile take no flows

    public FlowManager(FlowManagerOptions? options = null)
    {
        _options = options ?? new FlowManagerOptions();
        _options.Validate();
        _principal = _options.Principal ?? NewDefaultPrincipal();
        RoutingId = _options.RoutingId ?? RoutingId.NewRandom();
        _protocols = _options.Protocols ?? ProtocolRegistry.Default;
        _acceptorAuthorizer = _options.AcceptorAuthorizer ?? PeerAuthorizers.AllowEveryone(_principal);
        _logger = _options.LoggerFactory.CreateLogger<FlowManager>();
        _time = _options.Clock!;
        _accepts = new AcceptQueue(_options.AcceptBacklog);
        _receiveBudget = new ReceiveBudgetPool(_options.TotalReceiveBudget);
        _handshakes = new PendingHandshakes(_options.MaxPendingHandshakes);
        _metrics = new FlowManagerMetrics(_options.MeterFactory, RoutingId.ToString(), _totals, () => _cache.Snapshot(), _handshakes, _receiveBudget);
        StartIdleExpiry();
    }

    public RoutingId RoutingId { get; }

    /// <summary>The identity this manager presents.</summary>
    public Principal Principal => _principal;

    public Task Closed => _closed.Task;

    /// <summary>The connections the manager holds right now, dialed and accepted.</summary>
    public IReadOnlyList<IManagedConnection> Connections => _cache.Snapshot();

    /// <summary>Bytes reserved from <see cref="FlowManagerOptions.TotalReceiveBudget"/> now, for tests.</summary>
    internal long ReservedReceiveBytes => _receiveBudget.Reserved;

    /// <summary>The pins the manager keeps.</summary>
    public IReadOnlyList<IPinnedConnection> Pins => _pins.Keys.ToArray();

    public ListenStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                var endpoints = _listeners.Where(l => !l.Completion.IsCompleted).SelectMany(l => l.Endpoints).ToList();
                endpoints.AddRange(_proxyListeners.SelectMany(l => l.Published));
                if (endpoints.Count == 0 && !RoutingId.IsNull)
                {
                    // Still reachable over connections it dialed: Vanadium's bidi endpoint.
                    endpoints.Add(Endpoint.Create(Endpoint.BidiProtocol, string.Empty, RoutingId));
                }

                return new ListenStatus(
                    endpoints,
                    new Dictionary<(string, string), FlowException>(_listenErrors),
                    new Dictionary<string, FlowException?>(_proxyErrors),
                    _dirty.Task);
            }
        }
    }

    // ------------------------------------------------------------------ listening

    public async Task<IFlowListener> ListenAsync(string protocol, string address, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (RoutingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadState, "A manager with the null routing ID can only dial.");
        }

        var (impl, _) = _protocols.Get(protocol);
        IProtocolListener listener;
        try
        {
            listener = await impl.ListenAsync(protocol, address, cancellationToken).ConfigureAwait(false);
        }
        catch (FlowException e)
        {
            SetListenError(protocol, address, e);
            throw;
        }

        var endpoints = ListenAddresses.Publish(protocol, listener.Address, ListenAddresses.OfThisHost)
            .Select(published => Endpoint.Create(protocol, published, RoutingId, _principal.DefaultBlessings.Names))
            .ToArray();
        var endpoint = endpoints[0];
        var managerListener = new ManagerListener(endpoints, protocol, address);
        lock (_statusLock)
        {
            _listeners.Add(managerListener);
            _listenErrors.Remove((protocol, address));
            _stoppedListening = false;
        }

        MarkDirty();
        LogListening(_logger, endpoint);
        _ = AcceptLoopAsync(listener, managerListener);
        return managerListener;
    }

    /// <summary>
    /// Stops listening as Vanadium does: every cached connection enters lame duck (this completes once each peer
    /// acknowledged, so no peer opens a new flow here over a cached connection and its dials look elsewhere), then
    /// listeners and proxy registrations stop, then pending accepts fail. Connections dialed afterwards take no flows until the next
    /// <see cref="ListenAsync"/>; listening again works (Vanadium's manager cannot). A connection a listener accepted
    /// before the stop whose handshake ends after it is lame-ducked and closed, as if the listener had never accepted
    /// it; the stop waits for those handshakes too (each ends within the handshake timeout).
    /// </summary>
    public async Task StopListeningAsync(CancellationToken cancellationToken = default)
    {
        lock (_statusLock)
        {
            _stoppedListening = true;
        }

        // Lame duck before the listeners stop: stopping a proxy listener closes its connection to the proxy, and with it
        // every client connection tunnelled through it, whose peers would then never hear the lame duck and could still
        // pick that connection for a dial until its close reached them. A connection filed after this snapshot (a
        // handshake in progress, or accepted before its listener stops) is refused on its own (AcceptConnectionAsync).
        await EnterLameDuckEverywhereAsync(cancellationToken).ConfigureAwait(false);
        await StopListenersAsync(cancellationToken).ConfigureAwait(false);
        await AcceptsInProgressAsync(cancellationToken).ConfigureAwait(false);
        _accepts.Reset(new FlowException(FlowErrorCode.Aborted, "The manager stopped listening."), final: false);
        MarkDirty();
    }

    private async Task StopListenersAsync(CancellationToken cancellationToken)
    {
        ManagerListener[] listeners;
        ProxyListener[] proxyListeners;
        lock (_statusLock)
        {
            listeners = _listeners.ToArray();
            _listeners.Clear();
            proxyListeners = _proxyListeners.ToArray();
        }

        foreach (var listener in listeners)
        {
            await listener.Stop.CancelAsync().ConfigureAwait(false);
        }

        foreach (var listener in proxyListeners)
        {
            await listener.Stop.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(listeners.Select(l => l.Completion).Concat(proxyListeners.Select(l => l.Completion))
                .Select(c => c.ContinueWith(static _ => { }, TaskScheduler.Default)))
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IFlow> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (RoutingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadState, "A manager with the null routing ID accepts no flows.");
        }

        var reader = _accepts.Reader;
        try
        {
            var flow = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (flow is Flow accepted)
            {
                accepted.FlushRidingAcknowledgement();
            }

            return flow;
        }
        catch (System.Threading.Channels.ChannelClosedException e)
        {
            throw e.InnerException as FlowException ?? new FlowException(FlowErrorCode.Aborted, "Accepting stopped.", e);
        }
    }

    // ------------------------------------------------------------------ dialing

    public Task<IFlow> DialAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default) =>
        DialFlowAsync(remote, authorizer, channelTimeout, cachedOnly: false, cancellationToken);

    public Task<IFlow> DialCachedAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default) =>
        DialFlowAsync(remote, authorizer, channelTimeout, cachedOnly: true, cancellationToken);

    /// <summary>A flow on a cached or new connection, under a dial span (FlowActivities; null when nobody traces).</summary>
    private async Task<IFlow> DialFlowAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout, bool cachedOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        using var activity = FlowActivities.StartDial(FlowActivities.DialKinds.Of(remote, cachedOnly), RoutingId, remote);
        try
        {
            var connection = await GetConnectionAsync(remote, authorizer, channelTimeout, cachedOnly, cancellationToken).ConfigureAwait(false);
            var flow = connection.OpenFlow(sideChannel: false, channelTimeout);
            FlowActivities.SetPeer(activity, connection.RemoteEndpoint, connection.RemoteBlessingNames);
            return flow;
        }
        catch (Exception e)
        {
            TransportTelemetry.SetError(activity, e);
            throw;
        }
    }

    public async Task<IFlow> DialSideChannelCachedAsync(Endpoint remote, IPeerAuthorizer authorizer, IManagedConnection connection, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(authorizer);
        if (connection is not ManagedConnection managed || !_cache.Contains(managed))
        {
            throw new FlowException(FlowErrorCode.BadState, "The connection is not one this manager caches.");
        }

        if (!await ConnectionCache.AcceptsAsync(remote, authorizer, managed, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            throw new FlowException(FlowErrorCode.NotTrusted, $"The authorizer does not accept the peer of this connection as {remote}.");
        }

        return managed.OpenFlow(sideChannel: true, channelTimeout);
    }

    /// <summary>
    /// A connection to <paramref name="remote"/> whose peer <paramref name="authorizer"/> accepts: a cached one it accepts
    /// now, else a new dial judged by it in the handshake. A routing ID alone never decides: connections claiming it are
    /// reused only for an authorizer that accepts their peer (docs/architecture.md 2.1).
    /// </summary>
    private async Task<ManagedConnection> GetConnectionAsync(
        Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout, bool cachedOnly, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(authorizer);
        for (var lookups = 1; ; lookups++)
        {
            var cached = await _cache.FindAsync(remote, authorizer, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (cached.Connection is { } found)
            {
                return found;
            }

            if (cachedOnly || remote.IsAddressless)
            {
                throw NoUsableConnection(remote, cached.Refused, cachedOnly);
            }

            if (lookups == 1 && ProxiedEndpoints.IsProxied(remote))
            {
                _ = ProxiedEndpoints.Hop(remote); // reject routes this manager cannot follow before any dial starts
            }

            // A connection cached between the lookup and the dial (another caller's dial finishing) is looked at first,
            // a few times at most: on a manager accepting many connections, the dial then goes ahead.
            var lookup = lookups < MaxLookupsPerDial ? cached.Generation : (long?)null;
            if (await DialForAsync(remote, authorizer, channelTimeout, lookup, cancellationToken).ConfigureAwait(false) is { } connection)
            {
                await EvictAsync(keep: connection).ConfigureAwait(false);
                return connection;
            }
        }
    }

    /// <summary>
    /// A new connection for this caller: joining another caller's dial to the same address when its peer passes this
    /// caller's authorizer too, else one of its own; null when a connection was cached since <paramref name="lookup"/>.
    /// (Apart from <see cref="GetConnectionAsync"/>, so that a cache hit allocates no closures.)
    /// </summary>
    private async Task<ManagedConnection?> DialForAsync(
        Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout, long? lookup, CancellationToken cancellationToken)
    {
        Task<ManagedConnection> DialNew(Action<ManagedConnection> file) => DialNewAsync(remote, authorizer, channelTimeout, file);
        Task<ManagedConnection> DialAlone() => _cache.DialAlone(remote, DialNew);
        var (dial, joined) = _cache.GetOrDial(remote, DialNew, lookup);
        if (dial is null)
        {
            return null;
        }

        ManagedConnection connection;
        try
        {
            connection = await dial.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (FlowException e) when (joined && e.Code == FlowErrorCode.NotTrusted)
        {
            // The dial this one joined was judged by another caller's authorizer, which may refuse a peer this one accepts.
            connection = await DialAlone().WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (joined && !await ConnectionCache.AcceptsAsync(remote, authorizer, connection, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            // ... or accept a peer this one refuses: then this caller dials for itself, and its own handshake decides.
            connection = await DialAlone().WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return connection;
    }

    private static FlowException NoUsableConnection(Endpoint remote, bool refused, bool cachedOnly)
    {
        if (refused)
        {
            return new FlowException(FlowErrorCode.NotTrusted,
                $"No cached connection to {remote} has a peer the authorizer accepts" + (cachedOnly ? "." : ", and the endpoint has no address to dial."));
        }

        return cachedOnly
            ? new FlowException(FlowErrorCode.BadState, $"No cached connection to {remote}.")
            : new FlowException(FlowErrorCode.DialFailed,
                $"No connection to routing ID {remote.RoutingId} is cached, and the endpoint has no address to dial.");
    }

    private async Task<ManagedConnection> DialNewAsync(
        Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout, Action<ManagedConnection> file)
    {
        if (ProxiedEndpoints.IsProxied(remote))
        {
            return await DialThroughProxyAsync(remote, authorizer, channelTimeout, file).ConfigureAwait(false);
        }

        var settings = Settings(authorizer, LocalEndpointForDial(), remote, channelTimeout, beforeStart: file);
        return await DialUnderTimeoutAsync($"Dialing {remote}", token => ConnectAsync(remote, settings, token), _closing.Token).ConfigureAwait(false);
    }

    /// <summary>Dials <paramref name="remote"/>'s address and runs the handshake over it; the caller bounds how long.</summary>
    private async Task<ManagedConnection> ConnectAsync(Endpoint remote, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var (impl, _) = _protocols.Get(remote.Protocol);

        // The caller's deadline bounds the protocol's part too, on the manager's clock: the protocol gets no timeout of its own.
        var framed = await impl.DialAsync(remote.Protocol, remote.Address, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return await ManagedConnection.ConnectAsync(framed, settings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one dial (connecting, authenticating, whatever else it needs) within the dial timeout, on the manager's clock.</summary>
    private Task<T> DialUnderTimeoutAsync<T>(string what, Func<CancellationToken, Task<T>> dial, CancellationToken stop) =>
        Deadline.DialAsync(what, _options.DialTimeout, _time, dial, stop);

    private Endpoint LocalEndpointForDial()
    {
        lock (_statusLock)
        {
            if (_listeners.FirstOrDefault() is { } first)
            {
                return first.Endpoint;
            }
        }

        return RoutingId.IsNull ? Endpoint.Create(string.Empty, string.Empty) : Endpoint.ForRoutingId(RoutingId);
    }

    private ConnectionSettings Settings(
        IPeerAuthorizer authorizer, Endpoint local, Endpoint? remote, TimeSpan channelTimeout, ChannelWriter<IFlow>? acceptedFlows = null,
        Action<ManagedConnection>? beforeStart = null)
    {
        var options = _options.Connection;
        if (options.TimeProvider != _time)
        {
            options = options.With(_time);
        }

        if (channelTimeout > TimeSpan.Zero && channelTimeout != options.ChannelTimeout)
        {
            options = options.With(channelTimeout);
        }

        acceptedFlows ??= RoutingId.IsNull || Volatile.Read(ref _stoppedListening) ? null : _accepts;
        return new ConnectionSettings
        {
            Principal = _principal,
            Authorizer = authorizer,
            LocalEndpoint = local,
            RemoteEndpoint = remote,
            Options = options,
            AcceptedFlows = acceptedFlows,
            PresentNamelessBlessings = RoutingId.IsNull && _options.NamelessWhenDialOnly,

            // Whoever dialed, flows reach AcceptAsync only from peers the acceptor authorizer admits. A private backlog
            // (a proxy registration's) is judged by the authorizer that dialed it.
            AcceptorAuthorizer = ReferenceEquals(acceptedFlows, _accepts) ? _acceptorAuthorizer : null,
            AcknowledgementsRideWithReplies = ReferenceEquals(acceptedFlows, _accepts),
            Logger = _logger,
            AggregateCounters = _totals,
            ManagerBudget = _receiveBudget,
            BeforeStart = beforeStart,
        };
    }

    /// <summary>Closes idle, unpinned connections over the cache limit: lame duck first so the peer stops opening flows.</summary>
    private async Task EvictAsync(ManagedConnection keep)
    {
        var victims = _cache.SelectEvictions(_options.MaxCachedConnections, keep);
        await RetireAsync(victims, "evicted from the connection cache").ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ pinning

    public async Task<IPinnedConnection> PinConnectionAsync(Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(remote, authorizer, channelTimeout, cachedOnly: false, cancellationToken).ConfigureAwait(false);
        var pin = new PinnedConnection(connection, p =>
        {
            _pins.TryRemove(p, out _);
            _cache.SetPinned(p.Current, pinned: false);
        });
        _pins[pin] = 0;
        _cache.SetPinned(connection, pinned: true);
        _ = KeepPinnedAsync(pin, remote, authorizer, channelTimeout);
        return pin;
    }

    private async Task KeepPinnedAsync(PinnedConnection pin, Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout)
    {
        // Reconnects happen long after whoever pinned is gone: their handshakes start traces of their own.
        if (System.Diagnostics.Activity.Current is not null)
        {
            System.Diagnostics.Activity.Current = null;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(pin.Unpinned, _closing.Token);
        var failures = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await pin.Current.Closed.WaitAsync(stop.Token).ConfigureAwait(false);
                var dropped = pin.Current;
                _cache.SetPinned(dropped, pinned: false);
                while (true)
                {
                    await Task.Delay(Backoff(failures), _time, stop.Token).ConfigureAwait(false);
                    try
                    {
                        var fresh = await GetConnectionAsync(remote, authorizer, channelTimeout, cachedOnly: false, stop.Token).ConfigureAwait(false);
                        _cache.SetPinned(fresh, pinned: true);
                        pin.Replace(fresh);
                        _metrics.PinReconnected();
                        LogPinReconnected(_logger, remote, pin.Reconnects);
                        failures = 0;
                        break;
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        // Whatever the failure, a pin keeps trying: only Unpin or closing the manager ends it.
                        failures++;
                        LogPinRetry(_logger, remote, failures, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Unpinned or the manager closed.
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var min = _options.PinBackoffMin.TotalMilliseconds;
        var ceiling = Math.Min(_options.PinBackoffMax.TotalMilliseconds, min * Math.Pow(2, Math.Min(failures, 30)));
#pragma warning disable CA5394 // Jitter spreads reconnects; it needs no cryptographic randomness.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble()));
#pragma warning restore CA5394
    }

    // ------------------------------------------------------------------ status and lifetime

    private void SetListenError(string protocol, string address, FlowException error)
    {
        lock (_statusLock)
        {
            _listenErrors[(protocol, address)] = error;
        }

        MarkDirty();
    }

    internal void SetProxyError(string name, FlowException? error)
    {
        lock (_statusLock)
        {
            _proxyErrors[name] = error;
        }

        MarkDirty();
    }

    private void MarkDirty()
    {
        TaskCompletionSource previous;
        lock (_statusLock)
        {
            previous = _dirty;
            _dirty = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    private void ThrowIfClosed()
    {
        if (_closing.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, "The flow manager is closed.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_closing.IsCancellationRequested)
        {
            await Closed.ConfigureAwait(false);
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        StopIdleExpiry();
        foreach (var pin in _pins.Keys)
        {
            pin.Unpin();
        }

        await StopListenersAsync(CancellationToken.None).ConfigureAwait(false);
        _accepts.Reset(new FlowException(FlowErrorCode.Aborted, "The flow manager is closed."), final: true);
        await Task.WhenAll(_cache.Close().Select(c => c.CloseAsync("the flow manager closed"))).ConfigureAwait(false);
        MarkDirty();
        _metrics.Dispose();
        _closed.TrySetResult();
    }

    private static Principal NewDefaultPrincipal()
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf("flow-manager");
        return principal;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, Endpoint endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pinned connection to {Remote} is back (reconnect {Count})")]
    private static partial void LogPinReconnected(ILogger logger, Endpoint remote, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pinned connection to {Remote} not back after {Failures} tries: {Reason}")]
    private static partial void LogPinRetry(ILogger logger, Endpoint remote, int failures, string reason);
}
