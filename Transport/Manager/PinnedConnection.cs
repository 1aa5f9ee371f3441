using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Manager;

/// <summary>A pin: the current connection plus the loop that re-dials it, with jittered exponential backoff, when it drops.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer or wait handle; Unpin may run at any time, so it is never disposed.")]
internal sealed class PinnedConnection(ManagedConnection connection, Action<PinnedConnection> onUnpin) : IPinnedConnection
{
    private readonly CancellationTokenSource _unpinned = new();
    private ManagedConnection _connection = connection;
    private int _reconnects;
    private int _unpinCalled;

    public IManagedConnection Connection => Volatile.Read(ref _connection);

    internal ManagedConnection Current => Volatile.Read(ref _connection);

    public int Reconnects => Volatile.Read(ref _reconnects);

    internal CancellationToken Unpinned => _unpinned.Token;

    internal void Replace(ManagedConnection replacement)
    {
        Volatile.Write(ref _connection, replacement);
        Interlocked.Increment(ref _reconnects);
    }

    public void Unpin()
    {
        if (Interlocked.Exchange(ref _unpinCalled, 1) != 0)
        {
            return;
        }

        _unpinned.Cancel();
        onUnpin(this);
    }
}
