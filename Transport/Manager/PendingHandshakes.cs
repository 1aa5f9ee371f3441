using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The handshakes of accepted connections in progress, at most <see cref="FlowManagerOptions.MaxPendingHandshakes"/>:
/// each holds buffers and runs cryptography for a peer nobody has authenticated yet, so without a cap a flood of
/// connections that never finish their handshake holds memory without limit.
/// </summary>
/// <remarks>
/// A connection that arrives while all slots are taken displaces the oldest handshake, which is closed at once, rather
/// than being refused itself: a handful of idle connections then cannot lock everyone out for a whole
/// <see cref="Connections.ConnectionOptions.HandshakeTimeout"/>. To keep a peer that completes its handshake promptly
/// out, a flood has to open the whole cap's worth of connections during that one handshake.
/// </remarks>
internal sealed class PendingHandshakes(int limit)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<IFramedConnection> _pending = [];
    private long _displaced;

    /// <summary>Handshakes in progress.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Handshakes closed to make room for a newer connection.</summary>
    public long Displaced => Interlocked.Read(ref _displaced);

    /// <summary>
    /// Registers a handshake starting on <paramref name="framed"/>; <paramref name="displaced"/> is the oldest one,
    /// taken off the list for the caller to close, when all slots were taken.
    /// </summary>
    public LinkedListNode<IFramedConnection> Enter(IFramedConnection framed, out IFramedConnection? displaced)
    {
        lock (_lock)
        {
            displaced = null;
            if (_pending.Count >= limit)
            {
                displaced = _pending.First!.Value;
                _pending.RemoveFirst();
                Interlocked.Increment(ref _displaced);
            }

            return _pending.AddLast(framed);
        }
    }

    /// <summary>The handshake ended, either way (or was displaced): its slot is free.</summary>
    public void Exit(LinkedListNode<IFramedConnection> entry)
    {
        lock (_lock)
        {
            if (entry.List is not null)
            {
                _pending.Remove(entry);
            }
        }
    }
}
