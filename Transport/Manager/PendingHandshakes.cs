namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The handshakes of accepted connections in progress, capped at <see cref="FlowManagerOptions.MaxPendingHandshakes"/>:
/// each holds buffers and runs cryptography for a peer nobody has authenticated yet, so without a cap a flood of
/// connections that never finish their handshake holds memory without limit. Lock-free.
/// </summary>
internal sealed class PendingHandshakes(int limit)
{
    private int _count;
    private long _refused;

    /// <summary>Handshakes in progress.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Connections closed at once because the cap was reached.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Takes a slot for a new handshake; false, counting a refusal, when all are taken.</summary>
    public bool TryEnter()
    {
        while (true)
        {
            var count = Volatile.Read(ref _count);
            if (count >= limit)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
            {
                return true;
            }
        }
    }

    /// <summary>The handshake ended, either way: its slot is free.</summary>
    public void Exit() => Interlocked.Decrement(ref _count);
}
