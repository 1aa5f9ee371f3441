using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Diagnostics;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Protocols;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The manager's accepted connections: the accept loop of each listener, and their handshakes, of which at most
/// <see cref="FlowManagerOptions.MaxPendingHandshakes"/> run at once (<see cref="PendingHandshakes"/>).
/// </summary>
public sealed partial class FlowManager
{
    // Accepted connections from their handshake's start until filed or refused: StopListening waits for them.
    private readonly HashSet<Task> _accepting = [];
    private readonly Lock _acceptingLock = new();

    /// <summary>Handshakes of accepted connections in progress, for tests.</summary>
    internal int PendingHandshakeCount => _handshakes.Count;

    private async Task AcceptLoopAsync(IProtocolListener listener, ManagerListener owner)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(owner.Stop.Token, _closing.Token);
        Exception? failure = null;
        try
        {
            while (true)
            {
                var framed = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                StartAccepting(framed, owner.Endpoint);
            }
        }
        catch (Exception e) when (stop.IsCancellationRequested)
        {
            _ = e; // stopped on purpose
        }
        catch (Exception e)
        {
            failure = e is FlowException ? e : new FlowException(FlowErrorCode.Network, "Accepting connections failed: " + e.Message, e);
            SetListenError(owner.Protocol, owner.Address, (FlowException)failure);
        }
        finally
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            owner.Complete(failure);
            MarkDirty();
        }
    }

    /// <summary>
    /// Runs the acceptor's handshake on a connection a listener (or a proxy) gave. When
    /// <see cref="FlowManagerOptions.MaxPendingHandshakes"/> handshakes run already, the oldest of them is closed at once
    /// to make room (<see cref="PendingHandshakes"/>).
    /// </summary>
    private void StartAccepting(IFramedConnection framed, Endpoint localEndpoint)
    {
        var entry = _handshakes.Enter(framed, out var displaced);
        if (displaced is not null)
        {
            LogHandshakeDisplaced(_logger, localEndpoint, _options.MaxPendingHandshakes);
            displaced.Abort(new FlowException(FlowErrorCode.Network,
                $"{_options.MaxPendingHandshakes} handshakes were in progress: the oldest was closed to make room for a new connection."));
        }

        var accepting = AcceptConnectionAsync(framed, localEndpoint, entry);
        if (!accepting.IsCompleted)
        {
            lock (_acceptingLock)
            {
                _accepting.Add(accepting);
            }

            _ = accepting.ContinueWith(
                static (done, state) =>
                {
                    var manager = (FlowManager)state!;
                    lock (manager._acceptingLock)
                    {
                        manager._accepting.Remove(done);
                    }
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Completes once every accepted connection whose handshake was in progress has been filed or refused.</summary>
    private async Task AcceptsInProgressAsync(CancellationToken cancellationToken)
    {
        Task[] accepting;
        lock (_acceptingLock)
        {
            accepting = [.. _accepting];
        }

        await Task.WhenAll(accepting).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task AcceptConnectionAsync(IFramedConnection framed, Endpoint localEndpoint, LinkedListNode<IFramedConnection> pending)
    {
        using var activity = FlowActivities.StartAccept(localEndpoint, framed.RemoteAddress);
        try
        {
            // Filed before it reads: a flow it carries may be accepted, and its peer dialed back by routing ID, at once.
            var filed = false;
            var settings = Settings(_acceptorAuthorizer, localEndpoint, remote: null, TimeSpan.Zero,
                beforeStart: connection => filed = _cache.Add(connection, addressKey: null));
            var connection = await ManagedConnection.AcceptAsync(framed, settings, _closing.Token).ConfigureAwait(false);
            _handshakes.Exit(pending);
            FlowActivities.SetPeer(activity, connection.RemoteEndpoint, connection.RemoteBlessingNames);
            if (!filed)
            {
                await connection.CloseAsync("the flow manager closed").ConfigureAwait(false);
                return;
            }

            // A handshake that ends after StopListening began may have missed the lame duck it gave the cache, and its
            // flows would queue for a manager that no longer accepts: refuse it, as the stopped listener would have,
            // lame duck first so the peer (whose side of the handshake ended first) stops using it before the stop
            // returns. StopListening sets the flag before it reads the cache, and this reads it after filing: one of
            // them sees the other.
            if (Volatile.Read(ref _stoppedListening))
            {
                await LameDuckWithinGraceAsync(connection).ConfigureAwait(false);
                await connection.CloseAsync("the flow manager stopped listening").ConfigureAwait(false);
                return;
            }

            await EvictAsync(keep: connection).ConfigureAwait(false);
        }
        catch (FlowException e)
        {
            TransportTelemetry.SetError(activity, e);
            _metrics.HandshakeFailed();
            LogHandshakeFailed(_logger, localEndpoint, e.Code, e.Message);
        }
        finally
        {
            _handshakes.Exit(pending);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handshake with a peer of {Endpoint} failed: {Code} {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, Endpoint endpoint, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A handshake on {Endpoint} was closed to make room for a new connection: {Limit} were in progress")]
    private static partial void LogHandshakeDisplaced(ILogger logger, Endpoint endpoint, int limit);
}
