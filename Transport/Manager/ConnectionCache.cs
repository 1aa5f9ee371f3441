using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The manager's live connections, known by the routing ID their peer claimed (with the peer's key) and, for dialed
/// ones, by the address they were dialed at. A routing ID is an address, not an identity: any peer may claim any ID, so
/// every connection claiming one is kept (none displaces another), and a caller reuses only a connection whose peer its
/// own authorizer accepts (<see cref="FindAsync"/>, after Vanadium's cache). Dials to one address share a single attempt;
/// closed connections leave at once; failed handshakes never enter. Eviction picks idle, unpinned connections only: the
/// lame-duck ones (either side's) first, then least recently used; <see cref="SelectIdle"/> picks those idle past the
/// manager's expiry.
/// </summary>
internal sealed class ConnectionCache
{
    private readonly Lock _lock = new();
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<RoutingId, List<Entry>> _byRoutingId = [];
    private readonly Dictionary<(string Protocol, string Address), List<Entry>> _byAddress = [];
    private readonly Dictionary<(string Protocol, string Address), Task<ManagedConnection>> _dialing = [];
    private long _added; // connections added so far: tells a dial whether its lookup is still current
    private bool _closed;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public IReadOnlyList<ManagedConnection> Snapshot()
    {
        lock (_lock)
        {
            return _entries.Select(e => e.Connection).ToArray();
        }
    }

    public bool Contains(ManagedConnection connection)
    {
        lock (_lock)
        {
            return _entries.Exists(e => ReferenceEquals(e.Connection, connection));
        }
    }

    /// <summary>
    /// The first usable cached connection to <paramref name="remote"/> whose peer <paramref name="authorizer"/> accepts
    /// now; <see cref="CacheLookup.Refused"/> says whether candidates existed that it refused. Candidates are the
    /// connections whose peer claims the endpoint's routing ID (the one dialed at its address first), or, for an endpoint
    /// without one, those dialed at its address; oldest first.
    /// </summary>
    public async ValueTask<CacheLookup> FindAsync(Endpoint remote, IPeerAuthorizer authorizer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (candidates, generation) = Candidates(remote);
        var refused = false;
        foreach (var candidate in candidates)
        {
            if (await AuthorizesAsync(authorizer, candidate, now, cancellationToken).ConfigureAwait(false))
            {
                return new CacheLookup(candidate, Refused: false, generation);
            }

            refused = true;
        }

        return new CacheLookup(null, refused, generation);
    }

    /// <summary>Whether <paramref name="connection"/> may carry a new flow to <paramref name="remote"/> for this authorizer.</summary>
    public static async ValueTask<bool> AcceptsAsync(
        Endpoint remote, IPeerAuthorizer authorizer, ManagedConnection connection, DateTimeOffset now, CancellationToken cancellationToken) =>
        connection.IsUsable
        && (remote.RoutingId.IsNull || remote.RoutingId == connection.RemoteEndpoint.RoutingId)
        && await AuthorizesAsync(authorizer, connection, now, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Runs <paramref name="authorizer"/> on the peer of an established connection, as the handshake would have: its
    /// refusal (a <see cref="FlowException"/>) is false, anything else it throws is a fault of its own and propagates.
    /// </summary>
    private static async ValueTask<bool> AuthorizesAsync(
        IPeerAuthorizer authorizer, ManagedConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (PeerAuthorizers.RefusesNoPeer(authorizer))
        {
            return true; // its verdict is known without validating the blessings again on every dial
        }

        var context = new PeerAuthorizationContext(
            connection.LocalEndpoint, connection.RemoteEndpoint, connection.RemoteBlessings, connection.RemoteDischarges, now);
        try
        {
            await authorizer.AuthorizePeerAsync(context, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (FlowException)
        {
            return false;
        }
    }

    /// <summary>
    /// The usable connections a dial to <paramref name="remote"/> may reuse, in the order <see cref="FindAsync"/> tries
    /// them. Built without LINQ: it runs on every dial, and nearly always finds one connection.
    /// </summary>
    private (ManagedConnection[] Candidates, long Generation) Candidates(Endpoint remote)
    {
        lock (_lock)
        {
            (string, string)? dialedHere = remote.IsAddressless ? null : AddressKey(remote);
            var entries = !remote.RoutingId.IsNull
                ? _byRoutingId.GetValueOrDefault(remote.RoutingId)
                : dialedHere is { } key ? _byAddress.GetValueOrDefault(key) : null;
            if (entries is null)
            {
                return ([], _added);
            }

            // Each entry is looked at once (IsUsable reads the clock, so it may change between two looks).
            var found = new ManagedConnection[entries.Count];
            var count = 0;
            foreach (var entry in entries)
            {
                if (entry.AddressKey == dialedHere && entry.Connection.IsUsable)
                {
                    found[count++] = entry.Connection;
                }
            }

            foreach (var entry in entries)
            {
                if (entry.AddressKey != dialedHere && entry.Connection.IsUsable)
                {
                    found[count++] = entry.Connection;
                }
            }

            return (count == found.Length ? found : found[..count], _added);
        }
    }

    /// <summary>
    /// Dials a new connection and hands it to <paramref name="file"/> once established, before it reads anything
    /// (<see cref="ConnectionSettings.BeforeStart"/>): a flow its peer opens back over it at once may be accepted, and
    /// its peer dialed back by routing ID, before the dial returns.
    /// </summary>
    public delegate Task<ManagedConnection> Dial(Action<ManagedConnection> file);

    /// <summary>
    /// Joins the dial in progress to <paramref name="remote"/>'s address, or starts one that others may join;
    /// <c>Joined</c> says which: a joined dial was judged by another caller's authorizer. With
    /// <paramref name="lookup"/> (a <see cref="CacheLookup.Generation"/>), a connection cached since that lookup
    /// (a dial that just finished) starts nothing and returns no dial: the caller looks again, so concurrent dials to
    /// one address still make one connection.
    /// </summary>
    public (Task<ManagedConnection>? Dial, bool Joined) GetOrDial(Endpoint remote, Dial dial, long? lookup = null)
    {
        var key = AddressKey(remote);
        lock (_lock)
        {
            if (_dialing.TryGetValue(key, out var pending))
            {
                return (pending, true);
            }

            if (lookup is { } seen && seen != _added)
            {
                return (null, false);
            }

            var task = DialAndAddAsync(dial, key, share: true);
            if (!task.IsCompleted)
            {
                _dialing[key] = task;
            }

            return (task, false);
        }
    }

    /// <summary>Dials <paramref name="remote"/> for one caller alone (nobody joins it) and caches the connection.</summary>
    public Task<ManagedConnection> DialAlone(Endpoint remote, Dial dial) =>
        DialAndAddAsync(dial, AddressKey(remote), share: false);

    private async Task<ManagedConnection> DialAndAddAsync(Dial dial, (string, string) key, bool share)
    {
        try
        {
            var filed = false;
            var connection = await dial(established => filed = Add(established, key)).ConfigureAwait(false);
            if (!filed)
            {
                await connection.CloseAsync("the flow manager closed").ConfigureAwait(false);
                throw new FlowException(FlowErrorCode.Aborted, "The flow manager closed while the dial was in progress.");
            }

            return connection;
        }
        finally
        {
            if (share)
            {
                lock (_lock)
                {
                    _dialing.Remove(key);
                }
            }
        }
    }

    /// <summary>
    /// Caches an established connection; it leaves the cache as soon as it closes. False once the cache is closed: a
    /// handshake that finished while the manager closed must be closed by the caller, or it would outlive the manager.
    /// </summary>
    public bool Add(ManagedConnection connection, (string Protocol, string Address)? addressKey)
    {
        var entry = new Entry(connection, addressKey);
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            _entries.Add(entry);
            _added++;
            if (!connection.RemoteEndpoint.RoutingId.IsNull)
            {
                ClaimLocked(connection.RemoteEndpoint.RoutingId, entry);
            }

            if (addressKey is { } key)
            {
                IndexLocked(_byAddress, key, entry);
            }
        }

        connection.OnClosed(() => Remove(connection));
        return true;
    }

    /// <summary>Refuses every later <see cref="Add"/> and returns the connections cached now, for the manager to close.</summary>
    public IReadOnlyList<ManagedConnection> Close()
    {
        lock (_lock)
        {
            _closed = true;
            return _entries.Select(e => e.Connection).ToArray();
        }
    }

    private void Remove(ManagedConnection closed)
    {
        lock (_lock)
        {
            var index = _entries.FindIndex(e => ReferenceEquals(e.Connection, closed));
            if (index < 0)
            {
                return;
            }

            var entry = _entries[index];
            _entries.RemoveAt(index);
            UnindexLocked(_byRoutingId, entry.Connection.RemoteEndpoint.RoutingId, entry);
            if (entry.AddressKey is { } key)
            {
                UnindexLocked(_byAddress, key, entry);
            }
        }
    }

    /// <summary>
    /// Files a connection under the routing ID its peer claimed, by the peer's key: keys in the order they first claimed
    /// the ID, each key's newest connection first. A peer's fresh connection so goes before its own older ones, and
    /// never before another key's.
    /// </summary>
    private void ClaimLocked(RoutingId routingId, Entry entry)
    {
        if (!_byRoutingId.TryGetValue(routingId, out var claimants))
        {
            _byRoutingId[routingId] = [entry];
            return;
        }

        var sameKey = claimants.FindIndex(e => Equals(e.PeerKey, entry.PeerKey));
        claimants.Insert(sameKey < 0 ? claimants.Count : sameKey, entry);
    }

    private static void IndexLocked<TKey>(Dictionary<TKey, List<Entry>> index, TKey key, Entry entry)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var entries))
        {
            index[key] = entries = [];
        }

        entries.Add(entry);
    }

    private static void UnindexLocked<TKey>(Dictionary<TKey, List<Entry>> index, TKey key, Entry entry)
        where TKey : notnull
    {
        if (index.TryGetValue(key, out var entries) && entries.Remove(entry) && entries.Count == 0)
        {
            index.Remove(key);
        }
    }

    public void SetPinned(ManagedConnection connection, bool pinned)
    {
        lock (_lock)
        {
            foreach (var entry in _entries)
            {
                if (ReferenceEquals(entry.Connection, connection))
                {
                    entry.Pins += pinned ? 1 : -1;
                }
            }
        }
    }

    public bool IsPinned(ManagedConnection connection)
    {
        lock (_lock)
        {
            return _entries.Any(e => ReferenceEquals(e.Connection, connection) && e.Pins > 0);
        }
    }

    /// <summary>
    /// Idle, unpinned connections to close so that at most <paramref name="limit"/> stay cached; never
    /// <paramref name="keep"/>, the connection just made for a caller about to use it.
    /// </summary>
    public IReadOnlyList<ManagedConnection> SelectEvictions(int limit, ManagedConnection keep)
    {
        lock (_lock)
        {
            var excess = _entries.Count - limit;
            if (excess <= 0)
            {
                return [];
            }

            return _entries
                .Where(e => e.Pins == 0 && e.Connection.ActiveFlows == 0 && !ReferenceEquals(e.Connection, keep))
                .OrderByDescending(e => e.Connection.IsRemoteLameDuck || e.Connection.IsLocalLameDuck)
                .ThenBy(e => e.Connection.LastUsed)
                .Take(excess)
                .Select(e => e.Connection)
                .ToArray();
        }
    }

    /// <summary>
    /// Unpinned connections that carried no flow (side channels aside) for longer than <paramref name="expiry"/> at
    /// <paramref name="now"/>: what the manager retires, as Vanadium's cache does with connections idle past its expiry.
    /// </summary>
    public IReadOnlyList<ManagedConnection> SelectIdle(DateTimeOffset now, TimeSpan expiry)
    {
        lock (_lock)
        {
            List<ManagedConnection>? idle = null;
            foreach (var entry in _entries)
            {
                if (entry.Pins == 0 && entry.Connection.ActiveFlows == 0 && entry.Connection.LastUsed + expiry < now)
                {
                    (idle ??= []).Add(entry.Connection);
                }
            }

            return idle ?? (IReadOnlyList<ManagedConnection>)[];
        }
    }

    /// <summary>
    /// The address part of the cache key. Servers behind one proxy share its address, so a proxied endpoint's key
    /// also names the server (and the route): dials to two servers behind one proxy never join each other.
    /// </summary>
    public static (string Protocol, string Address) AddressKey(Endpoint endpoint) => endpoint.Routes.Count == 0
        ? (endpoint.Protocol, endpoint.Address)
        : ("proxied:" + endpoint.Protocol, $"{endpoint.Address}/{string.Join('/', endpoint.Routes)}/{endpoint.RoutingId}");

    private sealed class Entry(ManagedConnection connection, (string Protocol, string Address)? addressKey)
    {
        public ManagedConnection Connection { get; } = connection;

        /// <summary>The peer's key, which (not its routing ID) is who it is.</summary>
        public PublicKey? PeerKey { get; } = connection.RemoteBlessings.PublicKey;

        public (string Protocol, string Address)? AddressKey { get; } = addressKey;

        public int Pins { get; set; }
    }
}

/// <summary>
/// What <see cref="ConnectionCache.FindAsync"/> found: a connection the authorizer accepts, whether it refused others,
/// and the cache's generation (connections added so far) when it looked.
/// </summary>
internal readonly record struct CacheLookup(ManagedConnection? Connection, bool Refused, long Generation = 0);
