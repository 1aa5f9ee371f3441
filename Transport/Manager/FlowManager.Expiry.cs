using FlowOrleans.Transport.Connections;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The manager's side of connection retirement: idle expiry (after Vanadium's periodic cache reaping), eviction and
/// StopListening's lame duck. A connection is always retired lame duck first, so its peer stops opening flows on it
/// before it closes, and closed only while it carries no flow.
/// </summary>
public sealed partial class FlowManager
{
    /// <summary>Vanadium polls its cache at most this often however short the expiry ...</summary>
    private static readonly TimeSpan MinIdleCheckInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>... and at least this often however long.</summary>
    private static readonly TimeSpan MaxIdleCheckInterval = TimeSpan.FromMinutes(30);

    /// <summary>How long a retiring connection's peer gets to acknowledge the lame duck, on the manager's clock.</summary>
    private static readonly TimeSpan LameDuckGrace = TimeSpan.FromSeconds(1);

    private ITimer? _idleTimer;
    private int _reaping;

    /// <summary>Starts the idle check: every half of <see cref="FlowManagerOptions.IdleExpiry"/>, within the bounds above.</summary>
    private void StartIdleExpiry()
    {
        var expiry = _options.IdleExpiry;
        if (expiry == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        var period = TimeSpan.FromTicks(Math.Clamp(expiry.Ticks / 2, MinIdleCheckInterval.Ticks, MaxIdleCheckInterval.Ticks));
        _idleTimer = _time.CreateTimer(static state => _ = ((FlowManager)state!).RetireIdleAsync(), this, period, period);
    }

    private void StopIdleExpiry() => Interlocked.Exchange(ref _idleTimer, null)?.Dispose();

    /// <summary>One idle check; a check still running (a peer slow to acknowledge) makes the next one skip.</summary>
    private async Task RetireIdleAsync()
    {
        if (Interlocked.Exchange(ref _reaping, 1) == 1)
        {
            return;
        }

        try
        {
            var idle = _cache.SelectIdle(_time.GetUtcNow(), _options.IdleExpiry);
            if (idle.Count > 0 && !_closing.IsCancellationRequested)
            {
                LogIdleExpired(_logger, idle.Count);
                await RetireAsync(idle, "idle past the connection cache's expiry").ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref _reaping, 0);
        }
    }

    /// <summary>
    /// Puts each connection into lame duck and closes those still carrying no flow (side channels aside) once the peer
    /// acknowledged, or did not within the grace: an unresponsive peer does not get to keep the connection.
    /// </summary>
    private async Task RetireAsync(IReadOnlyList<ManagedConnection> connections, string reason)
    {
        foreach (var connection in connections)
        {
            await LameDuckWithinGraceAsync(connection).ConfigureAwait(false);
            if (connection.ActiveFlows == 0)
            {
                await connection.CloseAsync(reason).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Puts <paramref name="connection"/> into lame duck and waits for the peer's acknowledgement, at most <see cref="LameDuckGrace"/>.</summary>
    private async Task LameDuckWithinGraceAsync(ManagedConnection connection)
    {
        try
        {
            using var grace = new CancellationTokenSource(LameDuckGrace, _time);
            await connection.EnterLameDuckAsync(grace.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FlowException or OperationCanceledException)
        {
            // Closed meanwhile, or the peer is slow: the caller closes it all the same.
        }
    }

    /// <summary>
    /// Puts every cached connection into lame duck and waits until each peer acknowledged (or the connection closed):
    /// afterwards no peer opens a new flow over them, and a peer's dial to this manager looks for another connection.
    /// </summary>
    private async Task EnterLameDuckEverywhereAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_cache.Snapshot().Select(LameDuckAsync)).ConfigureAwait(false);

        async Task LameDuckAsync(ManagedConnection connection)
        {
            try
            {
                await connection.EnterLameDuckAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (FlowException)
            {
                // It closed (or is closing): it carries no new flows either.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retiring {Count} connections idle past the cache's expiry")]
    private static partial void LogIdleExpired(ILogger logger, int count);
}
