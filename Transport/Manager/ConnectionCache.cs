using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The manager's live connections, found by the peer's routing ID or by the address they were dialed at.
/// Dials to one address share a single attempt; closed connections leave at once; failed handshakes never enter.
/// Eviction picks idle, unpinned connections only: the peer's lame-duck ones first, then least recently used.
/// </summary>
internal sealed class ConnectionCache
{
    private readonly Lock _lock = new();
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<RoutingId, Entry> _byRoutingId = [];
    private readonly Dictionary<(string Protocol, string Address), Entry> _byAddress = [];
    private readonly Dictionary<(string Protocol, string Address), Task<ManagedConnection>> _dialing = [];
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

    /// <summary>A usable cached connection to <paramref name="remote"/>, by routing ID first, then by address.</summary>
    public ManagedConnection? Find(Endpoint remote)
    {
        lock (_lock)
        {
            if (!remote.RoutingId.IsNull && _byRoutingId.TryGetValue(remote.RoutingId, out var byId) && byId.Connection.IsUsable)
            {
                return byId.Connection;
            }

            if (!remote.IsAddressless
                && _byAddress.TryGetValue(AddressKey(remote), out var byAddress)
                && byAddress.Connection.IsUsable
                && (remote.RoutingId.IsNull || remote.RoutingId == byAddress.Connection.RemoteEndpoint.RoutingId))
            {
                return byAddress.Connection;
            }

            return null;
        }
    }

    /// <summary>Returns the cached connection or joins (or starts) the one dial in progress to the same address.</summary>
    public Task<ManagedConnection> GetOrDialAsync(Endpoint remote, Func<Task<ManagedConnection>> dial)
    {
        var key = AddressKey(remote);
        lock (_lock)
        {
            if (Find(remote) is { } cached)
            {
                return Task.FromResult(cached);
            }

            if (_dialing.TryGetValue(key, out var pending))
            {
                return pending;
            }

            var task = DialAndAddAsync(key, dial);
            if (!task.IsCompleted)
            {
                _dialing[key] = task;
            }

            return task;
        }
    }

    private async Task<ManagedConnection> DialAndAddAsync((string, string) key, Func<Task<ManagedConnection>> dial)
    {
        try
        {
            var connection = await dial().ConfigureAwait(false);
            if (!Add(connection, key))
            {
                await connection.CloseAsync("the flow manager closed").ConfigureAwait(false);
                throw new FlowException(FlowErrorCode.Aborted, "The flow manager closed while the dial was in progress.");
            }

            return connection;
        }
        finally
        {
            lock (_lock)
            {
                _dialing.Remove(key);
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
            if (!connection.RemoteEndpoint.RoutingId.IsNull)
            {
                _byRoutingId[connection.RemoteEndpoint.RoutingId] = entry;
            }

            if (addressKey is { } key)
            {
                _byAddress[key] = entry;
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
            var id = entry.Connection.RemoteEndpoint.RoutingId;
            if (!id.IsNull && _byRoutingId.TryGetValue(id, out var byId) && ReferenceEquals(byId.Connection, entry.Connection))
            {
                _byRoutingId.Remove(id);
            }

            if (entry.AddressKey is { } key && _byAddress.TryGetValue(key, out var byAddress) && ReferenceEquals(byAddress.Connection, entry.Connection))
            {
                _byAddress.Remove(key);
            }
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
    /// The address part of the cache key. Servers behind one proxy share its address, so a proxied endpoint's key
    /// also names the server (and the route): dials to two servers behind one proxy never join each other.
    /// </summary>
    public static (string Protocol, string Address) AddressKey(Endpoint endpoint) => endpoint.Routes.Count == 0
        ? (endpoint.Protocol, endpoint.Address)
        : ("proxied:" + endpoint.Protocol, $"{endpoint.Address}/{string.Join('/', endpoint.Routes)}/{endpoint.RoutingId}");

    private sealed class Entry(ManagedConnection connection, (string Protocol, string Address)? addressKey)
    {
        public ManagedConnection Connection { get; } = connection;

        public (string Protocol, string Address)? AddressKey { get; } = addressKey;

        public int Pins { get; set; }
    }
}
